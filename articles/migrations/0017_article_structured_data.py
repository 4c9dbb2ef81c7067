"""Article.structured_data: the page's JSON-LD, stored with the article and its holes filled
in by the page view. Stored by `manage.py refresh_article_content` (run at each deploy): the
outline format changed, and until then a page renders its article's stored parts in memory."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_approved_top_level_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="structured_data",
            field=models.TextField(default="", editable=False),
        ),
    ]
