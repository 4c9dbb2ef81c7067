"""A reader whose comment is held sees it in place, marked "awaiting moderation", on their
own next page views; nobody else does, and everyone else's pages stay shared in the cache."""

import pytest
from django.test import Client

from comments.held import COOKIE
from comments.models import Comment
from tests.factories import ArticleFactory, CommentFactory, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(db):
    return ArticleFactory(comments_open=True, title="Blue dots")


def page_of(client, article):
    return client.get(article.get_absolute_url())


def test_the_sender_sees_their_held_comment_in_place_and_nobody_else_does(article, client):
    other = Client()
    assert page_of(other, article)["X-Page-Cache"] == "miss"  # the shared page, now cached

    post_comment(client, article, author_name="Sam", body="Is blueness permanent?")
    first = page_of(client, article).content.decode()  # with the "thank you" message
    again = page_of(client, article)  # a later view, message gone

    for page in (first, again.content.decode()):
        assert "Is blueness permanent?" in page
        assert "Awaiting moderation" in page
        assert "Only you can see your comment until a moderator approves it." in page
    assert again.get("X-Page-Cache") != "hit"  # rendered for them, never from the shared cache
    shared = page_of(other, article)
    assert shared["X-Page-Cache"] == "hit"
    assert "Is blueness permanent?" not in shared.content.decode()
    assert "Is blueness permanent?" not in page_of(Client(), article).content.decode()


def test_the_sender_view_is_never_stored_for_others(article, client):
    post_comment(client, article, author_name="Sam", body="Held text")
    page_of(client, article)
    page_of(client, article)

    response = page_of(Client(), article)

    assert "Held text" not in response.content.decode()


def test_once_approved_the_comment_shows_as_any_other(article, client):
    post_comment(client, article, author_name="Sam", body="Is blueness permanent?")
    Comment.objects.filter(body="Is blueness permanent?").set_status(Comment.Status.APPROVED, None)

    page = page_of(client, article).content.decode()

    assert "Is blueness permanent?" in page and "Awaiting moderation" not in page


def test_a_rejected_comment_is_no_longer_shown_to_its_sender(article, client):
    post_comment(client, article, author_name="Sam", body="Is blueness permanent?")
    Comment.objects.filter(body="Is blueness permanent?").set_status(Comment.Status.REJECTED, None)

    assert "Is blueness permanent?" not in page_of(client, article).content.decode()


def test_a_forged_cookie_shows_nobody_elses_held_comment(article):
    someone_elses = CommentFactory(
        article=article, status=Comment.Status.PENDING, body="Private pending text"
    )
    forger = Client()
    forger.cookies[COOKIE] = str(someone_elses.pk)

    assert "Private pending text" not in page_of(forger, article).content.decode()


def test_held_comments_of_another_article_are_not_shown_here(article, client):
    elsewhere = ArticleFactory(comments_open=True)
    post_comment(client, elsewhere, author_name="Sam", body="On the other article")

    assert "On the other article" not in page_of(client, article).content.decode()
