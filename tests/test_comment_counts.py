"""Each article's stored count of approved comments stays exact, whatever way comments change."""

import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module

import pytest
import reversion
from django.apps import apps
from django.core import serializers
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from reversion.models import Version

import comments.models
from articles.models import Article
from comments.models import Comment
from tests.commands import call as run
from tests.factories import ArticleFactory, CommentFactory, admin_article_form_data, admin_comment_form_data

pytestmark = pytest.mark.django_db

QUEUE = "/admin/comments/comment/"
EVERY_STATUS = f"{QUEUE}?status=all"  # the queue shows pending comments unless told otherwise
APPROVED, PENDING, REJECTED, SPAM = (Comment.Status.APPROVED, Comment.Status.PENDING,
                                     Comment.Status.REJECTED, Comment.Status.SPAM)  # fmt: skip


def stored_count(article):
    return Article.objects.values_list("approved_comment_count", flat=True).get(pk=article.pk)


def assert_counts(expected):
    """{article: n}: each article stores n, and has n approved comments."""
    assert {article: stored_count(article) for article in expected} == expected
    assert {article: article.comments.approved().count() for article in expected} == expected


def record_recounts(monkeypatch):
    """The sets of article ids recounted from now on."""
    recounts = []
    recount = comments.models.recount_approved_comments

    def recorded(article_ids):
        recounts.append(set(article_ids))
        return recount(article_ids)

    monkeypatch.setattr(comments.models, "recount_approved_comments", recorded)
    return recounts


def run_action(client, action, comments):
    return client.post(
        EVERY_STATUS,
        {"action": action, "_selected_action": [str(comment.pk) for comment in comments]},
        follow=True,
    )


def test_approved_comments_are_counted_and_others_are_not(article):
    CommentFactory.create_batch(2, article=article)
    for status in (PENDING, REJECTED, SPAM):
        CommentFactory(article=article, status=status)

    assert_counts({article: 2})


def test_a_held_comment_from_a_reader_costs_no_count(article):
    with CaptureQueriesContext(connection) as queries:
        CommentFactory(article=article, status=PENDING)

    assert not [query for query in queries if "articles_article" in query["sql"]]
    assert_counts({article: 0})


def test_approving_and_rejecting_in_the_comment_form(moderator_client, article):
    comment = CommentFactory(article=article, status=PENDING)

    moderator_client.post(f"{QUEUE}{comment.pk}/change/", admin_comment_form_data(comment, status=APPROVED))
    assert_counts({article: 1})

    moderator_client.post(f"{QUEUE}{comment.pk}/change/", admin_comment_form_data(comment, status=REJECTED))
    assert_counts({article: 0})


@pytest.mark.parametrize(
    ("action", "first_count", "second_count"),
    [("approve_comments", 2, 2), ("reject_comments", 1, 0), ("mark_as_spam", 1, 0)],
)
def test_moderation_actions(moderator_client, action, first_count, second_count):
    first, second = ArticleFactory(), ArticleFactory()
    CommentFactory(article=first)
    selected = [
        CommentFactory(article=first, status=PENDING),
        CommentFactory(article=second, status=PENDING),
        CommentFactory(article=second),
    ]

    run_action(moderator_client, action, selected)

    assert_counts({first: first_count, second: second_count})


def test_a_bulk_update_of_status(article):
    other = ArticleFactory()
    CommentFactory.create_batch(3, article=article, status=PENDING)
    CommentFactory(article=other, status=PENDING)
    CommentFactory(article=other)

    assert Comment.objects.pending().update(status=APPROVED) == 4
    assert_counts({article: 3, other: 2})

    Comment.objects.filter(article=other).set_status(SPAM, None)
    assert_counts({article: 3, other: 0})


def test_bulk_update_of_comments(article):
    comments = CommentFactory.create_batch(3, article=article, status=PENDING)
    for comment in comments[:2]:
        comment.status = APPROVED

    Comment.objects.bulk_update(comments, ["status"])

    assert_counts({article: 2})


def test_a_bulk_insert(article):
    Comment.objects.bulk_create(
        Comment(article=article, author_name=f"Reader {n}", body=f"Comment {n}", status=status)
        for n, status in enumerate([APPROVED, APPROVED, PENDING, SPAM])
    )

    assert_counts({article: 2})


def test_deleting_one_comment(article):
    _kept, deleted = CommentFactory.create_batch(2, article=article)

    deleted.delete()

    assert_counts({article: 1})


def test_deleting_comments_in_bulk_counts_each_article_once(article, monkeypatch):
    other = ArticleFactory()
    CommentFactory.create_batch(5, article=article, author_email="sam@example.org")
    CommentFactory(article=other, author_email="sam@example.org")
    CommentFactory(article=other)
    recounts = record_recounts(monkeypatch)

    Comment.objects.filter(author_email="sam@example.org").delete()

    assert recounts == [{article.pk, other.pk}]
    assert_counts({article: 0, other: 1})


def test_deleting_comments_in_the_admin(moderator_client, article):
    comments = CommentFactory.create_batch(3, article=article)

    moderator_client.post(
        EVERY_STATUS,
        {"action": "delete_selected", "_selected_action": [str(c.pk) for c in comments[:2]], "post": "yes"},
    )

    assert Comment.objects.count() == 1
    assert_counts({article: 1})


def test_a_comment_that_another_moderator_approved_meanwhile_is_uncounted_when_deleted(article):
    comment = CommentFactory(article=article, status=PENDING)
    loaded = Comment.objects.get(pk=comment.pk)
    Comment.objects.filter(pk=comment.pk).update(status=APPROVED)  # elsewhere, after it was loaded

    loaded.delete()

    assert_counts({article: 0})


def test_erasing_a_commenter_keeps_their_comments_counted(article):
    CommentFactory.create_batch(2, article=article, author_email="sam@example.org")

    run("erase_commenter", "sam@example.org")

    assert_counts({article: 2})


def test_erasing_a_commenter_with_delete_uncounts_their_comments(article):
    CommentFactory.create_batch(2, article=article, author_email="sam@example.org")
    CommentFactory(article=article)

    run("erase_commenter", "sam@example.org", "--delete")

    assert_counts({article: 1})


def test_moving_a_comment_to_another_article(article):
    other = ArticleFactory()
    moved, _ = CommentFactory.create_batch(2, article=article)

    moved.article = other
    moved.save()
    assert_counts({article: 1, other: 1})

    Comment.objects.filter(article=article).update(article=other)
    assert_counts({article: 0, other: 2})


def test_saving_a_comment_loaded_before_its_status_changed(article):
    comment = CommentFactory(article=article, status=PENDING)
    loaded = Comment.objects.get(pk=comment.pk)
    Comment.objects.filter(pk=comment.pk).update(status=APPROVED)  # elsewhere, after it was loaded

    loaded.body = "Corrected by a moderator, who still sees it pending."
    loaded.save()

    assert_counts({article: 0})


def test_saving_an_article_loaded_before_a_comment_was_approved(article):
    loaded = Article.objects.get(pk=article.pk)
    CommentFactory(article=article)

    loaded.title = "A new title"
    loaded.save()

    assert_counts({article: 1})
    assert loaded.approved_comment_count == 1


def test_an_editor_saving_the_article(editor_client, article):
    CommentFactory.create_batch(2, article=article)

    response = editor_client.post(
        f"/admin/articles/article/{article.pk}/change/", admin_article_form_data(article)
    )

    assert response.status_code == 302
    assert_counts({article: 2})


def test_restoring_a_revision_of_the_article(article):
    with reversion.create_revision():
        article.save()
    CommentFactory.create_batch(2, article=article)

    Version.objects.get_for_object(article).first().revision.revert()

    assert_counts({article: 2})


def test_comments_loaded_from_a_fixture(article):
    comments = CommentFactory.create_batch(2, article=article)
    fixture = serializers.serialize("json", comments)
    Comment.objects.all().delete()
    assert_counts({article: 0})

    for loaded in serializers.deserialize("json", fixture):
        loaded.save()  # a raw save, as loaddata does

    assert_counts({article: 2})


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_brings_back_the_counts_of_its_comments(tmp_path):
    article = ArticleFactory()
    CommentFactory(article=article)
    run("backup", "--output-dir", str(tmp_path))
    [backup] = tmp_path.iterdir()
    CommentFactory.create_batch(2, article=article)

    run("restore", str(backup), "--yes")

    assert_counts({article: 1})


def test_the_thread_admin_shows_the_count(moderator_client, article):
    CommentFactory.create_batch(2, article=article)
    CommentFactory(article=article, status=PENDING)

    html = moderator_client.get("/admin/comments/commentthread/").content.decode()

    assert '<td class="field-approved_comments">2</td>' in html


def test_deleting_an_article_with_its_comments(article):
    CommentFactory.create_batch(3, article=article)

    article.delete()

    assert not Comment.objects.exists()


def test_the_migration_counts_comments_stored_before_it(article):
    CommentFactory.create_batch(2, article=article)
    Article._base_manager.update(approved_comment_count=0)

    import_module("comments.migrations.0009_count_approved_comments").count_approved_comments(apps, None)

    assert_counts({article: 2})


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it")
def test_two_moderators_approving_on_one_thread_at_the_same_moment(monkeypatch):
    """Both comments are approved (not yet committed) before either counts: the second to
    count waits for the first's lock, and sees its comment."""
    article = ArticleFactory()
    held = CommentFactory.create_batch(2, article=article, status=PENDING)
    both_approved = threading.Barrier(2, timeout=10)
    recount = comments.models.recount_approved_comments

    def recount_once_both_approved(article_ids):
        both_approved.wait()
        return recount(article_ids)

    monkeypatch.setattr(comments.models, "recount_approved_comments", recount_once_both_approved)

    def approve(comment):
        try:
            return Comment.objects.filter(pk=comment.pk).set_status(APPROVED, None)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(approve, held)) == [1, 1]

    assert_counts({article: 2})
