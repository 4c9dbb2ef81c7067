"""Article.approved_top_level_count: of the approved comments, the top-level ones, which the
thread's pages are counted in, and pinned_answer_count (both kept by the comments app). Every
comment stored so far is top-level and none is pinned: the first starts as the total."""

from django.db import migrations, models


def count_top_level(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Article.objects.update(approved_top_level_count=models.F("approved_comment_count"))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0015_image_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="approved_top_level_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="article",
            name="pinned_answer_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_top_level, migrations.RunPython.noop),
    ]
