"""PostgreSQL search indexes: GIN over the weighted search vector, and a trigram GIN
index over the plain-text document for the typo-tolerant fallback.

Both are PostgreSQL features, so on SQLite this migration does nothing (the SQLite
fallback search needs no index at this site's size).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS article_search_vector ON articles_article USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS article_search_document_trgm "
    "ON articles_article USING gin (search_document gin_trgm_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS article_search_vector",
    "DROP INDEX IF EXISTS article_search_document_trgm",
]


def run_on_postgresql(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_search_fields_and_reading_time")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
