"""generate_demo_data fills an empty or demo-only database, repeatably, and never mixes with real content."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from articles.models import Article, ArticleImage, SideEffect
from comments.models import Comment
from images.models import Image
from smpinfo.management.commands.generate_demo_data import hot_article_share

pytestmark = pytest.mark.django_db


def generate(**options):
    out = StringIO()
    call_command("generate_demo_data", stdout=out, **options)
    return out.getvalue()


def test_demo_articles_are_filed_under_topics_and_list_related_articles(client):
    generate(articles=30, comments=0)

    articles = list(Article.objects.prefetch_related("topics"))
    assert all(article.topics.all() for article in articles)
    assert all(article.topic_outline for article in articles)
    for article in articles:
        html = client.get(article.get_absolute_url()).content.decode()
        assert 'class="related-articles' in html
        topic = article.topic_outline[0]
        assert f'<a href="/topics/{topic["slug"]}/" rel="tag">{topic["name"]}</a>' in html


def test_a_small_run_creates_the_requested_articles_and_comments():
    before = timezone.now()
    generate(articles=5, comments=300, reply_share=0)

    articles = list(Article.objects.order_by("pk"))
    assert [article.slug for article in articles] == [f"demo-article-{n}" for n in range(1, 6)]
    assert Article.objects.published().count() == 5
    assert all(article.title and article.summary and "<h2" in article.body_html for article in articles)
    for article in articles:
        effects = list(article.side_effects.all())
        assert 3 <= len(effects) <= 6
        assert len({effect.name for effect in effects}) == len(effects)
        assert all(effect.description_html.startswith("<p>") for effect in effects)

    assert Comment.objects.count() == 300
    assert Comment.objects.filter(article=articles[0]).count() == 30  # a tenth goes to the first article
    statuses = dict.fromkeys(Comment.Status.values, 0)
    for status in Comment.objects.values_list("status", flat=True):
        statuses[status] += 1
    assert statuses["approved"] > 200
    assert statuses["pending"] > 0
    assert statuses["approved"] + statuses["pending"] + statuses["spam"] + statuses["rejected"] == 300
    assert not Comment.objects.filter(created_at__lt=before - timedelta(days=366)).exists()
    assert not Comment.objects.filter(created_at__gt=timezone.now()).exists()
    assert not Comment.objects.filter(ip_address__isnull=True).exists()
    assert not Comment.objects.filter(user_agent="").exists()
    assert not Comment.objects.filter(author_email="").exists()


def test_demo_threads_show_their_approved_comments_with_the_count_each_article_stores(client):
    generate(articles=3, comments=120)

    for article in Article.objects.all():
        approved = Comment.objects.approved().filter(article=article)
        assert article.approved_comment_count == approved.count() > 0
        html = client.get(article.get_absolute_url()).content.decode()
        oldest = approved.order_by("created_at", "pk").first()  # the first on the thread's first page
        assert oldest.author_name in html


def test_the_first_article_of_a_million_comments_gets_over_ten_thousand_approved_ones():
    assert hot_article_share(1_000_000) == 12_000  # 88% approved: about 10,500
    assert hot_article_share(2000) == 200
    assert hot_article_share(10_000_000) == 100_000  # never less than 1%


def test_the_same_seed_gives_the_same_content():
    def content():
        return (
            list(Article.objects.order_by("slug").values_list("slug", "title", "summary", "published_at")),
            list(SideEffect.objects.order_by("article__slug", "order").values_list("name", flat=True)),
            list(Comment.objects.order_by("pk").values_list("article__slug", "author_name", "body")),
        )

    generate(articles=4, comments=50, seed=7)
    first = content()
    Article.objects.all().delete()

    generate(articles=4, comments=50, seed=7)
    titles, effects, comments = content()

    assert [row[:3] for row in titles] == [row[:3] for row in first[0]]
    assert effects == first[1]
    assert comments == first[2]

    Article.objects.all().delete()
    generate(articles=4, comments=50, seed=8)
    assert content()[0] != first[0]


def test_refuses_a_database_with_real_content_and_says_why():
    call_command("seed_content", stdout=StringIO())

    with pytest.raises(CommandError) as refusal:
        generate(articles=3, comments=10)

    message = str(refusal.value)
    assert "real content" in message
    assert "2 articles" in message
    assert "side-effects-of-scalp-micropigmentation" in message
    assert "--force" in message
    assert Article.objects.count() == 2
    assert Comment.objects.count() == 0


def test_force_adds_demo_content_beside_real_content():
    call_command("seed_content", stdout=StringIO())
    seeded = list(Article.objects.order_by("slug").values_list("slug", "title", "updated_at"))

    generate(articles=3, comments=10, force=True)

    assert Article.objects.filter(slug__startswith="demo-article-").count() == 3
    assert Comment.objects.count() == 10
    assert not Comment.objects.exclude(article__slug__startswith="demo-").exists()
    assert list(Article.objects.exclude(slug__startswith="demo-").order_by("slug")
                .values_list("slug", "title", "updated_at")) == seeded  # fmt: skip


def test_running_again_on_demo_content_adds_new_articles():
    generate(articles=3, comments=20)

    generate(articles=2, comments=10)

    slugs = set(Article.objects.values_list("slug", flat=True))
    assert slugs == {f"demo-article-{n}" for n in range(1, 6)}
    assert Comment.objects.count() == 30
    assert Comment.objects.filter(article__slug__in=["demo-article-4", "demo-article-5"]).count() == 10


def test_prints_a_progress_line_per_batch_and_a_summary():
    output = generate(articles=2, comments=350, batch_size=100, reply_share=0)

    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("comments: ")]
    assert [line.split(" (")[0] for line in progress] == [
        "comments: 100/350",
        "comments: 200/350",
        "comments: 300/350",
        "comments: 350/350",
    ]
    assert all(re.fullmatch(r"comments: [\d,]+/350 \(\d+%\) \d+ s", line) for line in progress)
    assert "comments: 350/350 (100%)" in progress[-1]
    assert any(line.startswith("articles: 2/2 (100%)") for line in lines)
    assert re.search(r"Done: 2 articles, \d+ side effects and 350 comments \(.*\) in [\d.]+ s", output)


def test_a_share_of_the_comments_are_replies_to_approved_comments_some_by_staff():
    generate(articles=4, comments=400, reply_share=0.25)

    replies = Comment.objects.exclude(parent=None).select_related("parent")
    assert Comment.objects.count() == 400
    assert replies.count() == 100
    for reply in replies:
        assert reply.status == reply.parent.status == Comment.Status.APPROVED
        assert reply.article_id == reply.parent.article_id and reply.parent.parent_id is None
        assert reply.created_at >= reply.parent.created_at
    assert 0 < replies.filter(is_staff_answer=True).count() < 30
    for article in Article.objects.all():
        shown = Comment.objects.shown().filter(article=article)
        assert article.approved_comment_count == shown.count()
        assert article.approved_top_level_count == shown.filter(parent=None).count()


def test_comments_need_articles():
    with pytest.raises(CommandError, match="--articles"):
        generate(articles=0, comments=10)
    assert Comment.objects.count() == 0
    with pytest.raises(CommandError, match="--articles"):
        generate(articles=0, comments=0, images=2)
    assert Image.objects.count() == 0


def test_images_option_adds_generated_pictures_that_article_pages_show(client):
    output = generate(articles=6, comments=0, images=2)

    images = list(Image.objects.order_by("pk"))
    assert len(images) == 2
    assert len({image.content_hash for image in images}) == 2  # two distinct pictures
    for image in images:
        assert (image.width, image.height) == (1200, 800)
        assert {r["format"] for r in image.renditions} == {"avif", "webp", "jpeg"}
        assert all(default_storage.exists(name) for name in image.file_names())
    assert re.search(r"Done: 6 articles, .*, 2 images in", output)

    def pictures(article):
        page = client.get(article.get_absolute_url()).content.decode()
        return page, re.findall(r"<picture>.*?</picture>", page, re.S)

    first, second = Article.objects.get(slug="demo-article-1"), Article.objects.get(slug="demo-article-2")
    page, shown = pictures(first)  # featured image first, then the one embedded in its text
    assert first.featured_image_id == images[0].pk and f"image:{images[1].pk}" in first.body
    assert len(shown) == 2
    assert f"/media/{images[0].largest()['name']}" in shown[0]
    assert f"/media/{images[1].largest()['name']}" in shown[1]
    assert 'type="image/avif"' in shown[0] and 'type="image/webp"' in shown[1]
    assert '<meta property="og:image"' in page
    assert second.featured_image_id is None and pictures(second)[1] == []
    assert Article.objects.filter(featured_image__isnull=False).count() == 3  # every second article
    assert set(ArticleImage.objects.values_list("image_id", flat=True)) == {images[0].pk, images[1].pk}

    home = client.get("/").content.decode()
    assert home.count('<div class="teaser-thumbnail">') == 3


def test_images_are_used_again_not_added_twice_for_the_same_pictures():
    generate(articles=2, comments=0, images=2)
    Article.objects.all().delete()

    generate(articles=2, comments=0, images=2)  # the same seed and first article: the same pictures

    assert Image.objects.count() == 2
    assert Article.objects.get(slug="demo-article-1").featured_image_id in set(
        Image.objects.values_list("pk", flat=True)
    )
