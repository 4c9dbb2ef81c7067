"""The seed_content command creates the first articles once and never overwrites edits."""

import io

import pytest
from django.core.management import call_command

from articles.models import Article, SideEffect, Topic

pytestmark = pytest.mark.django_db

SIDE_EFFECTS_SLUG = "side-effects-of-scalp-micropigmentation"
WHAT_IS_SLUG = "what-is-scalp-micropigmentation"
SIX_SIDE_EFFECTS = [
    "Swollen lymph nodes",
    "Redness",
    "Itchy scalp",
    "Allergic reaction",
    "Blueness of the scalp",
    "Mid-treatment fading",
]


def rows():
    return (
        list(Article.objects.order_by("slug").values_list("slug", "title", "body", "status")),
        list(SideEffect.objects.order_by("pk").values_list("article__slug", "name", "order")),
    )


def test_seed_creates_the_side_effects_article_with_six_side_effects_in_order():
    call_command("seed_content", stdout=None)

    article = Article.objects.published().get(slug=SIDE_EFFECTS_SLUG)
    assert article.title == "Side Effects of Scalp Micropigmentation"
    assert [effect.name for effect in article.side_effects.all()] == SIX_SIDE_EFFECTS
    assert all(effect.frequency and effect.description and effect.cause and effect.advice
               for effect in article.side_effects.all())  # fmt: skip
    assert article.comments_open is False


def test_seed_creates_the_linked_explainer_and_the_link_works(client):
    call_command("seed_content")

    article = Article.objects.get(slug=SIDE_EFFECTS_SLUG)
    assert f'href="/articles/{WHAT_IS_SLUG}/"' in article.body_html
    response = client.get(f"/articles/{WHAT_IS_SLUG}/")
    assert response.status_code == 200
    assert "<h1>What is scalp micropigmentation?</h1>" in response.content.decode()


def test_seeded_article_page_shows_the_table_and_closed_comments(client):
    call_command("seed_content")

    html = client.get(f"/articles/{SIDE_EFFECTS_SLUG}/").content.decode()

    assert "Side effects at a glance" in html
    for name in SIX_SIDE_EFFECTS:
        assert f">{name}</h2>" in html
    assert "Comments are closed." in html


def test_seed_twice_gives_the_same_rows():
    call_command("seed_content")
    first = rows()

    call_command("seed_content")

    assert rows() == first
    assert Article.objects.count() == 2
    assert SideEffect.objects.count() == 6


def test_editor_changes_survive_a_rerun():
    call_command("seed_content")
    article = Article.objects.get(slug=SIDE_EFFECTS_SLUG)
    article.title = "Side effects of SMP, reviewed"
    article.comments_open = True
    article.save()
    article.side_effects.get(name="Mid-treatment fading").delete()

    call_command("seed_content")

    article.refresh_from_db()
    assert article.title == "Side effects of SMP, reviewed"
    assert article.comments_open is True
    assert article.side_effects.count() == 5


def test_seed_files_each_article_under_a_topic_that_links_the_other_as_related(client):
    call_command("seed_content", stdout=io.StringIO())

    html = client.get(f"/articles/{SIDE_EFFECTS_SLUG}/").content.decode()
    assert '<a href="/topics/side-effects-and-aftercare/" rel="tag">Side effects and aftercare</a>' in html
    related = html.split('class="related-articles')[1].split("</aside>")[0]
    assert "What is scalp micropigmentation?" in related
    topic_page = client.get("/topics/smp-basics/").content.decode()
    assert "What is scalp micropigmentation?" in topic_page


def test_rerun_leaves_topics_an_editor_chose_and_files_an_article_left_without_one():
    call_command("seed_content", stdout=io.StringIO())
    explainer = Article.objects.get(slug="what-is-scalp-micropigmentation")
    explainer.topics.clear()
    side_effects = Article.objects.get(slug=SIDE_EFFECTS_SLUG)
    chosen = Topic.objects.create(name="Risks", slug="risks")
    side_effects.topics.set([chosen])

    call_command("seed_content", stdout=io.StringIO())

    assert [topic.slug for topic in explainer.topics.all()] == ["smp-basics"]
    assert list(side_effects.topics.all()) == [chosen]
