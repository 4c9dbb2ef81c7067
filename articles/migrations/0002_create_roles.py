"""Create the Editors and Moderators groups with their permissions.

Permissions are normally created after all migrations run (post_migrate), so on
a fresh database they are created here first for the apps this migration needs.
"""

from django.db import migrations

from articles.migrations._roles import ensure_permissions, grant

EDITOR_PERMISSIONS = [
    ("articles", "add_article"),
    ("articles", "change_article"),
    ("articles", "delete_article"),
    ("articles", "view_article"),
    ("articles", "add_sideeffect"),
    ("articles", "change_sideeffect"),
    ("articles", "delete_sideeffect"),
    ("articles", "view_sideeffect"),
]
MODERATOR_PERMISSIONS = [
    ("articles", "view_article"),
    ("articles", "view_sideeffect"),
]


def create_roles(apps, schema_editor):
    ensure_permissions(apps)
    grant(apps, "Editors", EDITOR_PERMISSIONS)
    grant(apps, "Moderators", MODERATOR_PERMISSIONS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Moderators"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
