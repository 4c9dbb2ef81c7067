"""Moderators export and erase commenters' personal data from the admin, and read the
record of it (superusers may anyway)."""

from django.db import migrations

from articles.migrations._roles import ensure_permissions
from articles.migrations._roles import grant as grant_to

MODERATOR_PERMISSIONS = [("comments", "handle_personal_data"), ("comments", "view_personaldatarequest")]


def grant(apps, schema_editor):
    ensure_permissions(apps, ("auth", "contenttypes", "comments"))
    grant_to(apps, "Moderators", MODERATOR_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("comments", "0011_personal_data_requests"), ("articles", "0002_create_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
