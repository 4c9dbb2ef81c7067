"""The Reviewers group, and the new models' permissions for Editors and Moderators.

Reviewers read articles (drafts too) and record reviews; they never change content.
Editors write authors, references and site pages and read reviews; they record none.
"""

from django.db import migrations

from articles.migrations._roles import ensure_permissions, grant

READ_ARTICLES = [
    ("articles", "view_article"),
    ("articles", "view_sideeffect"),
    ("articles", "view_author"),
    ("articles", "view_reference"),
    ("articles", "view_review"),
]
REVIEWER_PERMISSIONS = [*READ_ARTICLES, ("articles", "add_review")]
EDITOR_PERMISSIONS = [
    *READ_ARTICLES,
    *(
        ("articles", f"{action}_{model}")
        for model in ("author", "articleauthor", "reference", "sitepage")
        for action in ("add", "change", "delete", "view")
    ),
]
MODERATOR_PERMISSIONS = [("articles", "view_author"), ("articles", "view_reference")]


def create_roles(apps, schema_editor):
    ensure_permissions(apps)
    grant(apps, "Reviewers", REVIEWER_PERMISSIONS)
    grant(apps, "Editors", EDITOR_PERMISSIONS)
    grant(apps, "Moderators", MODERATOR_PERMISSIONS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Reviewers").delete()


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_editorial_trust")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
