"""Moderators export and erase commenters' personal data from the admin, and read the
record of it (superusers may anyway)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = ["handle_personal_data", "view_personaldatarequest"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("comments")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True  # create_permissions skips apps without models
    create_permissions(app_config, verbosity=0)
    app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="comments", codename__in=MODERATOR_PERMISSIONS)
    )


class Migration(migrations.Migration):
    dependencies = [("comments", "0011_personal_data_requests")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
