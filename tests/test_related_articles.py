"""Related articles: ranked by shared topics, then by how alike the texts are, when articles
change; the article page only shows what was stored.

The tests use a transactional database: the pages they read again are retired from the
page cache when a change commits, as on the real site.
"""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from articles.models import Article, RelatedArticle
from tests.factories import ArticleFactory, TopicFactory, UserFactory, admin_article_form_data, ensure_roles

pytestmark = pytest.mark.django_db(transaction=True)


def related_on(client, article):
    """The titles of the related articles an article's page shows, in order."""
    html = client.get(article.get_absolute_url()).content.decode()
    if 'class="related-articles' not in html:
        return []
    aside = html.split('class="related-articles')[1].split("</aside>")[0]
    return re.findall(r'<li><a href="[^"]+">([^<]+)</a>', aside)


def unrelated_article(title, **fields):
    """An article whose text shares no word with other articles' unless their titles do
    (factory articles share their summary)."""
    return ArticleFactory(title=title, summary=title, **fields)


@pytest.fixture
def topics():
    return {name: TopicFactory(name=name.title(), slug=name) for name in ("aftercare", "risks", "costs")}


def test_articles_sharing_more_topics_come_first(client, topics):
    aftercare, risks, costs = topics.values()
    article = ArticleFactory(title="Healing week by week", topics=[aftercare, risks])
    ArticleFactory(title="Sharing one topic", topics=[costs, risks])
    ArticleFactory(title="Sharing two topics", topics=[aftercare, risks])
    ArticleFactory(title="Sharing only words")

    assert related_on(client, article) == ["Sharing two topics", "Sharing one topic", "Sharing only words"]


def test_among_articles_without_shared_topics_the_most_alike_text_comes_first(client):
    article = ArticleFactory(
        title="Pigment fading after laser", summary="Why pigment fades and when to touch up."
    )
    ArticleFactory(title="Touch up sessions", summary="When a touch up restores faded pigment.")
    ArticleFactory(title="Choosing a clinic", summary="Questions to ask a clinic before you book.")
    unrelated_article("Tax deadlines")

    assert related_on(client, article) == ["Touch up sessions"]


def test_an_article_alike_in_nothing_lists_no_related_articles(client):
    ArticleFactory(title="Ink colour", summary="Pigment shades for every skin tone.")
    article = unrelated_article("Tax deadlines")

    assert related_on(client, article) == []
    assert 'class="related-articles' not in client.get(article.get_absolute_url()).content.decode()


def test_related_articles_are_at_most_three_and_never_itself_or_drafts(client, topics):
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    ArticleFactory.create_batch(4, topics=[aftercare])
    ArticleFactory(title="Draft on aftercare", topics=[aftercare], status=Article.Status.DRAFT)

    shown = related_on(client, article)

    assert len(shown) == 3
    assert "Aftercare basics" not in shown
    assert "Draft on aftercare" not in shown


def test_a_scheduled_article_appears_among_related_articles_when_its_time_comes(
    client, topics, monkeypatch, settings
):
    settings.PAGE_CACHE_SECONDS = 0  # what the cache does at that moment is tested in test_page_cache.py
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    publication = timezone.now() + timedelta(hours=2)
    ArticleFactory(title="Aftercare next week", topics=[aftercare], published_at=publication)
    assert related_on(client, article) == []

    later = publication + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert related_on(client, article) == ["Aftercare next week"]


def test_a_newly_published_article_joins_the_lists_of_articles_on_its_topic(client, topics):
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    assert related_on(client, article) == []

    ArticleFactory(title="Washing after SMP", topics=[aftercare])

    assert related_on(client, article) == ["Washing after SMP"]


def test_a_newly_published_article_joins_the_lists_of_articles_alike_in_text(client):
    article = ArticleFactory(title="Pigment fading", summary="Why pigment fades with sunlight.")
    unrelated_article("Tax deadlines")
    assert related_on(client, article) == []

    ArticleFactory(title="Sunlight and pigment", summary="Sunlight fades pigment: protect it.")

    assert related_on(client, article) == ["Sunlight and pigment"]


def test_unpublishing_an_article_takes_it_off_every_list(client, topics):
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    other = ArticleFactory(title="Washing after SMP", topics=[aftercare])

    Article.objects.filter(pk=other.pk).update(status=Article.Status.DRAFT)

    assert related_on(client, article) == []
    assert not RelatedArticle.objects.filter(related=other).exists()


def test_renaming_an_article_renames_it_in_every_list(client, topics):
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    other = ArticleFactory(title="Washing after SMP", topics=[aftercare])

    other.title = "Washing your scalp after SMP"
    other.slug = "washing-your-scalp"
    other.save()

    html = client.get(article.get_absolute_url()).content.decode()
    assert '<a href="/articles/washing-your-scalp/">Washing your scalp after SMP</a>' in html


def test_deleting_an_article_takes_it_off_every_list(client, topics):
    aftercare = topics["aftercare"]
    article = ArticleFactory(title="Aftercare basics", topics=[aftercare])
    other = ArticleFactory(title="Washing after SMP", topics=[aftercare])
    ArticleFactory(title="Sleeping after SMP", topics=[aftercare])

    other.delete()

    assert related_on(client, article) == ["Sleeping after SMP"]


def test_changing_an_articles_topics_ranks_again_the_articles_of_the_old_and_new_topics(client, topics):
    aftercare, risks = topics["aftercare"], topics["risks"]
    on_aftercare = unrelated_article("Aftercare basics", topics=[aftercare])
    on_risks = unrelated_article("Infection risk", topics=[risks])
    moving = unrelated_article("Itching", topics=[aftercare])
    assert related_on(client, on_aftercare) == ["Itching"]

    moving.topics.set([risks])

    assert related_on(client, on_aftercare) == []
    assert related_on(client, on_risks) == ["Itching"]
    assert related_on(client, moving) == ["Infection risk"]


def test_topics_changed_in_the_admin_rank_related_articles_again(client, topics):
    ensure_roles()
    editor_client = Client()
    editor_client.force_login(UserFactory(username="editor", is_staff=True, groups=["Editors"]))
    aftercare = topics["aftercare"]
    article = unrelated_article("Aftercare basics", topics=[aftercare])
    other = unrelated_article("Itching")

    response = editor_client.post(
        f"/admin/articles/article/{other.pk}/change/",
        admin_article_form_data(other, topics=[str(aftercare.pk)]),
    )

    assert response.status_code == 302
    assert related_on(client, article) == ["Itching"]
    assert related_on(client, other) == ["Aftercare basics"]


def test_the_article_page_ranks_nothing(client, topics, settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    aftercare = topics["aftercare"]
    article = ArticleFactory(topics=[aftercare])
    ArticleFactory.create_batch(3, topics=[aftercare])

    # The article alone (it has no approved comment, so no comment query either): no query
    # for topics or related articles.
    with django_assert_num_queries(1):
        assert len(related_on(client, article)) == 3


def test_articles_loaded_in_bulk_are_ranked_by_the_command(client, topics):
    aftercare = topics["aftercare"]
    first, second = ArticleFactory.create_batch(2, topics=[aftercare])
    RelatedArticle.objects.all().delete()
    Article.objects.update(related_outline=[])
    assert related_on(client, first) == []

    output = StringIO()
    call_command("rank_related_articles", stdout=output)

    assert "Ranked the related articles of 2 articles." in output.getvalue()
    assert related_on(client, first) == [second.title]
    assert related_on(client, second) == [first.title]


def test_the_deploy_step_ranks_articles_stored_by_a_release_without_related_articles(client, topics):
    aftercare = topics["aftercare"]
    first, second = ArticleFactory.create_batch(2, topics=[aftercare])
    # As the release before this one left them: no related articles, content of another revision.
    Article.objects.update(related_outline=[], content_revision="older")

    call_command("refresh_article_content", stdout=StringIO())

    assert related_on(client, first) == [second.title]


def test_a_new_article_joins_a_full_list_only_when_it_beats_its_last_entry(client, topics):
    aftercare, risks = topics["aftercare"], topics["risks"]
    article = unrelated_article("Aftercare basics", topics=[aftercare, risks])
    old = timezone.now() - timedelta(days=30)
    for number in range(6):
        unrelated_article(f"Close match {number}", topics=[aftercare, risks], published_at=old)
    assert len(Article.objects.get(pk=article.pk).related_outline) == 6

    unrelated_article("Sharing one topic", topics=[aftercare])
    assert "Sharing one topic" not in related_on(client, article)

    unrelated_article("Sharing both topics", topics=[aftercare, risks])
    assert related_on(client, article)[0] == "Sharing both topics"


def test_a_word_most_articles_share_makes_no_article_related(client):
    # On a site about SMP nearly every article says "scalp": it tells nothing about how alike two are.
    for number in range(24):
        ArticleFactory(title=f"Scalp note {number}", summary=f"Scalp entry {number}.")
    article = ArticleFactory(title="Scalp", summary="Scalp.")

    assert related_on(client, article) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming comes from PostgreSQL's full text")
def test_on_postgresql_words_match_whatever_their_ending(client):
    article = ArticleFactory(title="Why pigment fades", summary="Fading explained.")
    ArticleFactory(title="Faded dots", summary="When pigment has faded.")
    unrelated_article("Tax deadlines")

    assert related_on(client, article) == ["Faded dots"]
