"""Moderators in the admin: the queue, bulk actions, threads, and what they may not touch."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from comments.models import BlockedPhrase, Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory, admin_comment_form_data
from tests.queries import count_uncached_queries

pytestmark = pytest.mark.django_db

QUEUE = "/admin/comments/comment/"
THREADS = "/admin/comments/commentthread/"
ARTICLES = "/admin/articles/article/"


def run_action(client, url, action, objects):
    return client.post(
        url, {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]}, follow=True
    )


def test_queue_shows_pending_comments_by_default(moderator_client):
    CommentFactory(body="Waiting for you", status=Comment.Status.PENDING)
    CommentFactory(body="Already fine", status=Comment.Status.APPROVED)

    html = moderator_client.get(QUEUE).content.decode()

    assert "Waiting for you" in html
    assert "Already fine" not in html


def test_queue_can_show_every_status(moderator_client):
    CommentFactory(body="Waiting for you", status=Comment.Status.PENDING)
    CommentFactory(body="Already fine", status=Comment.Status.APPROVED)

    html = moderator_client.get(f"{QUEUE}?status=all").content.decode()

    assert "Waiting for you" in html
    assert "Already fine" in html


def test_queue_shows_why_a_comment_was_held(moderator_client):
    CommentFactory(status=Comment.Status.PENDING, status_reason="Contains 3 links (more than 2).")

    assert "Contains 3 links (more than 2)." in moderator_client.get(QUEUE).content.decode()


def test_queue_filters_by_article_and_searches(moderator_client):
    blue = ArticleFactory(title="Blue dots")
    red = ArticleFactory(title="Redness")
    CommentFactory(article=blue, body="About blue", status=Comment.Status.PENDING)
    CommentFactory(article=red, body="About red", author_name="Unique Name", status=Comment.Status.PENDING)

    listing = moderator_client.get(QUEUE).content.decode()
    by_article = moderator_client.get(f"{QUEUE}?article={blue.pk}").content.decode()
    searched = moderator_client.get(f"{QUEUE}?q=Unique").content.decode()

    assert "Blue dots (1)" in listing  # the article filter lists articles with pending comments
    assert "About blue" in by_article
    assert "About red" not in by_article
    assert "About red" in searched
    assert "About blue" not in searched


def test_approve_action_publishes_and_records_who_and_when(moderator_client, moderator, client):
    article = ArticleFactory()
    comment = CommentFactory(article=article, body="Please publish me", status=Comment.Status.PENDING)

    response = run_action(moderator_client, QUEUE, "approve_comments", [comment])

    assert "1 comment approved." in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED
    assert comment.moderated_by == moderator
    assert comment.moderated_at is not None
    assert "Please publish me" in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("action", "status"),
    [("reject_comments", Comment.Status.REJECTED), ("mark_as_spam", Comment.Status.SPAM)],
)
def test_reject_and_spam_actions_hide_the_comment(moderator_client, moderator, action, status):
    comments = CommentFactory.create_batch(2, status=Comment.Status.APPROVED)

    run_action(moderator_client, f"{QUEUE}?status=all", action, comments)

    assert set(Comment.objects.values_list("status", flat=True)) == {status}
    assert set(Comment.objects.values_list("moderated_by", flat=True)) == {moderator.pk}


def test_changing_status_in_the_form_records_the_moderator(moderator_client, moderator):
    comment = CommentFactory(status=Comment.Status.PENDING)

    response = moderator_client.post(
        f"{QUEUE}{comment.pk}/change/", admin_comment_form_data(comment, status="approved")
    )

    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by) == (Comment.Status.APPROVED, moderator)


def test_ip_address_and_user_agent_are_read_only(moderator_client):
    comment = CommentFactory(ip_address="203.0.113.9", user_agent="Original agent")

    moderator_client.post(
        f"{QUEUE}{comment.pk}/change/",
        admin_comment_form_data(comment, status="approved", ip_address="10.0.0.1", user_agent="Forged"),
    )

    comment.refresh_from_db()
    assert (comment.ip_address, comment.user_agent) == ("203.0.113.9", "Original agent")
    html = moderator_client.get(f"{QUEUE}{comment.pk}/change/").content.decode()
    assert "203.0.113.9" in html


def test_nobody_adds_comments_through_the_admin(moderator_client):
    assert moderator_client.get(f"{QUEUE}add/").status_code == 403


def test_moderation_queue_query_count_does_not_grow_with_rows(
    moderator_client, django_assert_max_num_queries
):
    articles = ArticleFactory.create_batch(5)
    for article in articles:
        CommentFactory.create_batch(12, article=article, status=Comment.Status.PENDING)

    with django_assert_max_num_queries(12):
        response = moderator_client.get(QUEUE)
    assert response.status_code == 200


def test_thread_list_query_count_does_not_grow_with_rows(moderator_client):
    def queries():
        return count_uncached_queries(moderator_client, THREADS)

    ArticleFactory.create_batch(2)
    few = queries()
    for article in ArticleFactory.create_batch(20):
        CommentFactory.create_batch(2, article=article)
    assert queries() == few


# Threads -------------------------------------------------------------------------


def test_moderator_closes_a_thread_and_the_form_disappears(moderator_client, client):
    article = ArticleFactory(comments_open=True)

    response = run_action(moderator_client, THREADS, "close_comments", [article])

    assert "Comments closed on 1 article." in response.content.decode()
    article.refresh_from_db()
    assert article.comments_open is False
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Comments are closed." in html
    assert 'id="comment-form"' not in html


def test_moderator_reopens_a_thread(moderator_client):
    article = ArticleFactory(comments_open=False)

    run_action(moderator_client, THREADS, "open_comments", [article])

    article.refresh_from_db()
    assert article.comments_open is True


def test_moderator_closes_a_thread_from_the_article_list(moderator_client):
    article = ArticleFactory(comments_open=True)

    run_action(moderator_client, ARTICLES, "close_comments", [article])

    article.refresh_from_db()
    assert article.comments_open is False


def test_thread_list_shows_pending_and_approved_counts(moderator_client):
    article = ArticleFactory(title="Counted article")
    CommentFactory.create_batch(3, article=article, status=Comment.Status.PENDING)
    CommentFactory.create_batch(2, article=article, status=Comment.Status.APPROVED)

    html = moderator_client.get(THREADS).content.decode()

    assert f'href="/admin/comments/comment/?status=pending&amp;article={article.pk}">3</a>' in html
    assert '<td class="field-approved_comments">2</td>' in html


def test_thread_form_changes_only_the_thread_never_the_article(moderator_client):
    article = ArticleFactory(title="Original title", comments_open=True)
    before = Article.objects.get(pk=article.pk).updated_at

    response = moderator_client.post(
        f"{THREADS}{article.pk}/change/",
        {"title": "Vandalised", "comments_open": "", "comments_close_at_0": "", "comments_close_at_1": ""},
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Original title"
    assert article.comments_open is False
    assert article.updated_at == before


def test_editor_and_superuser_can_close_threads(editor_client, client):
    first, second = ArticleFactory.create_batch(2, comments_open=True)
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)

    run_action(editor_client, ARTICLES, "close_comments", [first])
    client.force_login(admin_user)
    run_action(client, THREADS, "close_comments", [second])

    assert not Article.objects.filter(comments_open=True).exists()


def test_editor_cannot_moderate_comments(editor_client):
    comment = CommentFactory(status=Comment.Status.PENDING)

    response = run_action(editor_client, QUEUE, "approve_comments", [comment])

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert "approve_comments" not in response.content.decode()


def test_moderator_cannot_edit_an_article_through_its_change_form(moderator_client):
    article = ArticleFactory(title="Original title")

    html = moderator_client.get(f"{ARTICLES}{article.pk}/change/").content.decode()

    assert 'name="title"' not in html  # view-only: no input to change


def test_anonymous_visitor_cannot_reach_the_moderation_admin(client):
    for url in (QUEUE, THREADS, "/admin/comments/blockedphrase/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_reader_account_without_staff_cannot_reach_the_admin(client):
    client.force_login(UserFactory(username="reader"))

    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_moderator_adds_a_blocked_phrase(moderator_client):
    response = moderator_client.post(
        "/admin/comments/blockedphrase/add/", {"phrase": " ｃｈｅａｐ pills ", "note": ""}
    )

    assert response.status_code == 302
    assert BlockedPhrase.objects.get().phrase == "cheap pills"


def test_queue_paginator_counts_small_results_exactly():
    from comments.paginators import EstimatedCountPaginator

    CommentFactory.create_batch(7)

    assert EstimatedCountPaginator(Comment.objects.all(), 50).count == 7


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimates are PostgreSQL's")
def test_queue_paginator_uses_the_planner_estimate_for_huge_results(monkeypatch):
    from comments import paginators

    CommentFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE comments_comment")
    monkeypatch.setattr(paginators, "EXACT_COUNT_LIMIT", 5)

    with CaptureQueriesContext(connection) as queries:
        count = paginators.EstimatedCountPaginator(Comment.objects.all(), 50).count

    assert count > 5
    assert "COUNT(" not in queries[-1]["sql"].upper()
