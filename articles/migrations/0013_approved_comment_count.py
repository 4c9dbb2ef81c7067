"""Article.approved_comment_count: how many approved comments the thread has, kept by the
comments app (its migration 0009 counts the comments already stored)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_related_scores"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="approved_comment_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
