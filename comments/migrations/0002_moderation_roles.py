"""Give the Moderators and Editors groups their comment permissions.

Moderators run the queue and the blocklist and open or close threads through
the CommentThread proxy's own permission; they get no right to change articles.
Editors can read comments and open or close their articles' threads too.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    "view_comment",
    "change_comment",
    "delete_comment",
    "view_commentthread",
    "change_commentthread",
    "add_blockedphrase",
    "change_blockedphrase",
    "delete_blockedphrase",
    "view_blockedphrase",
]
EDITOR_PERMISSIONS = ["view_comment", "view_commentthread", "change_commentthread"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("comments")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True  # create_permissions skips apps without models
    create_permissions(app_config, verbosity=0)
    app_config.models_module = previous

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in [("Moderators", MODERATOR_PERMISSIONS), ("Editors", EDITOR_PERMISSIONS)]:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="comments", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=["Moderators", "Editors"]):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="comments"))


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("articles", "0002_create_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
