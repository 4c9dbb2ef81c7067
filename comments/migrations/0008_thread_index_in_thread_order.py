"""The thread's index in the thread's own order, (article, status, created_at, id): a page of
approved comments is then a walk of the index with no sort, and a count an index-only scan."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0007_add_comment_unique_fingerprint"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="comment",
            name="comment_thread",
        ),
        migrations.AddIndex(
            model_name="comment",
            index=models.Index(fields=["article", "status", "created_at", "id"], name="comment_thread"),
        ),
    ]
