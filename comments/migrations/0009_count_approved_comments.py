"""Count each article's approved comments already stored into Article.approved_comment_count,
in one UPDATE (from the new comment_thread index); from now on comments.models keeps it."""

from django.db import migrations
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_approved_comments(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Comment = apps.get_model("comments", "Comment")
    approved = (
        Comment.objects.filter(article=OuterRef("pk"), status="approved")
        .order_by()
        .values("article")
        .annotate(total=Count("pk"))
        .values("total")
    )
    Article.objects.update(
        approved_comment_count=Coalesce(Subquery(approved, output_field=IntegerField()), 0)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0013_approved_comment_count"),
        ("comments", "0008_thread_index_in_thread_order"),
    ]

    operations = [
        migrations.RunPython(count_approved_comments, migrations.RunPython.noop),
    ]
