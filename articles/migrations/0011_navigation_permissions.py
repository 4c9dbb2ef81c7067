"""Editors file articles under topics and keep old addresses working: they write topics
and redirects and read the missing-page report (and clear it); Moderators and Reviewers
see topics."""

from django.db import migrations

from articles.migrations._roles import ensure_permissions, grant

EDITOR_PERMISSIONS = [
    *(
        ("articles", f"{action}_{model}")
        for model in ("topic", "redirect")
        for action in ("add", "change", "delete", "view")
    ),
    ("articles", "view_missingpath"),
    ("articles", "delete_missingpath"),
]
READER_PERMISSIONS = [("articles", "view_topic")]


def grant_permissions(apps, schema_editor):
    ensure_permissions(apps)
    grant(apps, "Editors", EDITOR_PERMISSIONS)
    grant(apps, "Moderators", READER_PERMISSIONS)
    grant(apps, "Reviewers", READER_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_navigation")]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
