"""`Article.objects.published()` is the one definition of what readers may see."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from articles.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_published_article_with_past_date_is_visible():
    article = ArticleFactory(published_at=timezone.now() - timedelta(days=1))

    assert list(Article.objects.published()) == [article]
    assert article.is_published


def test_draft_is_not_visible_even_with_past_date():
    draft = ArticleFactory(status=Article.Status.DRAFT, published_at=timezone.now() - timedelta(days=1))

    assert not Article.objects.published().exists()
    assert not draft.is_published


def test_future_publication_date_schedules_the_article():
    scheduled = ArticleFactory(published_at=timezone.now() + timedelta(days=1))

    assert not Article.objects.published().exists()
    assert not scheduled.is_published


def test_scheduled_article_appears_once_its_date_has_come():
    scheduled = ArticleFactory(published_at=timezone.now() + timedelta(hours=1))
    later = timezone.now() + timedelta(hours=2)

    with mock.patch("django.utils.timezone.now", return_value=later):
        assert list(Article.objects.published()) == [scheduled]
        assert scheduled.is_published


def test_an_article_page_shows_what_published_allows_at_each_moment(client):
    """The page's query is compiled once per process (articles.models.PageQuery); each
    request still brings its own time and address."""
    shown = ArticleFactory(title="Shown now")
    scheduled = ArticleFactory(title="Scheduled for later", published_at=timezone.now() + timedelta(hours=1))
    draft = ArticleFactory(title="Still a draft", status=Article.Status.DRAFT)

    assert "Shown now" in client.get(shown.get_absolute_url()).content.decode()
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404

    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=2)):
        response = client.get(scheduled.get_absolute_url())
        assert client.get(draft.get_absolute_url()).status_code == 404
    assert response.status_code == 200
    assert "<h1>Scheduled for later</h1>" in response.content.decode()
