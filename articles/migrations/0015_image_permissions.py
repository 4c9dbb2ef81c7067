"""Editors keep the image library (upload, edit, delete an image no page shows); Moderators
and Reviewers see it."""

from django.db import migrations

from articles.migrations._roles import ensure_permissions, grant

EDITOR_PERMISSIONS = [("images", f"{action}_image") for action in ("add", "change", "delete", "view")]
READER_PERMISSIONS = [("images", "view_image")]


def grant_permissions(apps, schema_editor):
    ensure_permissions(apps, ("auth", "contenttypes", "articles", "images"))
    grant(apps, "Editors", EDITOR_PERMISSIONS)
    grant(apps, "Moderators", READER_PERMISSIONS)
    grant(apps, "Reviewers", READER_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("articles", "0014_images"), ("images", "0001_initial")]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
