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
