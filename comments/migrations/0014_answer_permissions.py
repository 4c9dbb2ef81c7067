"""Editors, Moderators and Reviewers answer readers' comments as staff."""

from django.db import migrations

from articles.migrations._roles import ensure_permissions
from articles.migrations._roles import grant as grant_to

ANSWERING_ROLES = ["Editors", "Moderators", "Reviewers"]


def grant(apps, schema_editor):
    ensure_permissions(apps, ("auth", "contenttypes", "comments"))
    for role in ANSWERING_ROLES:
        grant_to(apps, role, [("comments", "answer_comment")])


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0013_replies_and_staff_answers"),
        ("articles", "0008_create_reviewers_and_editorial_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
