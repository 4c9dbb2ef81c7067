"""Replies, one level deep: the reply form, the rules a reply must pass, and how a thread
shows replies and staff answers page by page."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from comments.models import COMMENTS_PER_PAGE, Comment
from tests.factories import ArticleFactory, AuthorFactory, CommentFactory, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def published_at_once(settings):
    settings.COMMENTS_MODERATION = "none"
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def question(article):
    return CommentFactory(
        article=article, author_name="Asking Reader", body="Is it normal that the dots look blue?"
    )


def make_thread(article, top_level, replies_each=0, start=None):
    """`top_level` approved comments, oldest first, each with `replies_each` approved replies."""
    start = start or timezone.now() - timedelta(days=2)
    tops = Comment.objects.bulk_create(
        Comment(
            article=article,
            author_name=f"Reader {n}",
            author_email=f"reader{n}@example.org",
            body=f"Question {n}",
            status=Comment.Status.APPROVED,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(top_level)
    )
    Comment.objects.bulk_create(
        Comment(
            article=article,
            parent=top,
            author_name=f"Replier {n}.{r}",
            author_email=f"replier{n}.{r}@example.org",
            body=f"Reply {r} to question {n}",
            status=Comment.Status.APPROVED,
            created_at=top.created_at + timedelta(seconds=r + 1),
        )
        for n, top in enumerate(tops)
        for r in range(replies_each)
    )
    return tops


def shown_ids(html):
    return [int(pk) for pk in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)">', html)]


def reply_list_of(html, parent):
    """The ids shown in the list of replies under `parent`."""
    match = re.search(
        rf'id="comment-{parent.pk}">.*?</article>\s*<ol class="comment-replies[^>]*>(.*?)</ol>', html, re.S
    )
    return shown_ids(match.group(1)) if match else []


# The reply form ------------------------------------------------------------------


def test_each_comment_has_a_reply_link_to_a_form_naming_it(client, article, question):
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'href="/comments/{question.pk}/reply/"' in html

    page = client.get(f"/comments/{question.pk}/reply/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Reply to Asking Reader" in text
    assert "Is it normal that the dots look blue?" in text
    assert re.search(rf'<input type="hidden" name="parent" value="{question.pk}"', text)
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_reply_page_writes_nothing(client, article, question):
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/comments/{question.pk}/reply/")

    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_the_reply_link_of_a_reply_names_its_top_level_comment(client, article, question):
    reply = CommentFactory(article=article, parent=question)

    text = client.get(f"/comments/{reply.pk}/reply/").content.decode()

    assert re.search(rf'<input type="hidden" name="parent" value="{question.pk}"', text)


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM])
def test_there_is_no_reply_page_for_a_comment_readers_do_not_see(client, article, status):
    hidden = CommentFactory(article=article, status=status)

    assert client.get(f"/comments/{hidden.pk}/reply/").status_code == 404


def test_the_reply_page_of_a_closed_thread_says_comments_are_closed(client, article, question):
    Article.objects.filter(pk=article.pk).update(comments_open=False)

    page = client.get(f"/comments/{question.pk}/reply/")

    assert page.status_code == 403
    assert "Comments are closed." in page.content.decode()
    assert 'name="parent"' not in page.content.decode()


# Posting a reply -----------------------------------------------------------------


def test_a_reply_is_stored_under_its_comment_and_shown_there(client, article, question):
    response = post_comment(client, article, parent=question.pk, body="Yes, that is the healing phase.")

    reply = Comment.objects.get(parent=question)
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#comment-{reply.pk}"
    html = Client().get(article.get_absolute_url()).content.decode()
    assert reply_list_of(html, question) == [reply.pk]
    assert "Yes, that is the healing phase." in html


def test_a_reply_to_a_reply_answers_the_same_top_level_comment(client, article, question):
    first = CommentFactory(article=article, parent=question)

    post_comment(client, article, parent=first.pk, body="Replying to the reply.")

    assert Comment.objects.get(body="Replying to the reply.").parent == question


def test_replies_go_through_the_moderation_policy(client, article, question, settings):
    settings.COMMENTS_MODERATION = "all"

    post_comment(client, article, parent=question.pk, body="Held like any comment.")

    reply = Comment.objects.get(parent=question)
    assert reply.status == Comment.Status.PENDING
    assert "Held like any comment." not in Client().get(article.get_absolute_url()).content.decode()


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM])
def test_a_reply_to_a_comment_readers_do_not_see_is_refused_with_the_text_kept(client, article, status):
    hidden = CommentFactory(article=article, status=status)

    response = post_comment(client, article, parent=hidden.pk, body="My careful reply text.")

    assert response.status_code == 400
    text = response.content.decode()
    assert "The comment you are replying to is not shown on this article" in text
    assert "My careful reply text." in text
    assert re.search(r'<input type="hidden" name="parent" id="id_parent">', text)  # sent again: a new comment
    assert not Comment.objects.filter(body="My careful reply text.").exists()


def test_a_reply_to_a_comment_of_another_article_is_refused(client, article):
    elsewhere = CommentFactory(article=ArticleFactory())

    response = post_comment(client, article, parent=elsewhere.pk, body="Crossing threads.")

    assert response.status_code == 400
    assert not Comment.objects.filter(body="Crossing threads.").exists()


def test_a_reply_to_a_deleted_comment_is_refused(client, article, question):
    pk = question.pk
    question.delete()

    response = post_comment(client, article, parent=pk, body="Too late.")

    assert response.status_code == 400
    assert not Comment.objects.filter(body="Too late.").exists()


@pytest.mark.parametrize("parent", ["abc", "-1", "1.5"])
def test_a_parent_that_is_not_a_number_is_refused(client, article, parent):
    response = post_comment(client, article, parent=parent, body="Odd parent.")

    assert response.status_code == 400
    assert not Comment.objects.filter(body="Odd parent.").exists()


def test_a_reply_after_the_thread_closes_is_refused(client, article, question):
    Article.objects.filter(pk=article.pk).update(comments_open=False)

    response = post_comment(client, article, parent=question.pk, body="After closing.")

    assert response.status_code == 403
    assert not Comment.objects.filter(body="After closing.").exists()


def test_a_refused_body_in_a_reply_keeps_the_reply(client, article, question):
    response = post_comment(client, article, parent=question.pk, body="")

    assert response.status_code == 400
    text = response.content.decode()
    assert "Your reply to Asking Reader" in text
    assert re.search(rf'<input type="hidden" name="parent" value="{question.pk}"', text)


# The thread ----------------------------------------------------------------------


def test_replies_show_under_their_comment_oldest_first(client, article):
    first, second = make_thread(article, 2)
    later = CommentFactory(article=article, parent=first, created_at=timezone.now())
    earlier = CommentFactory(article=article, parent=first, created_at=timezone.now() - timedelta(hours=1))
    CommentFactory(article=article, parent=first, status=Comment.Status.PENDING, body="Pending reply")

    html = client.get(article.get_absolute_url()).content.decode()

    assert shown_ids(html) == [first.pk, earlier.pk, later.pk, second.pk]
    assert reply_list_of(html, first) == [earlier.pk, later.pk]
    assert "Pending reply" not in html


def test_pages_count_top_level_comments_with_their_replies(client, article):
    tops = make_thread(article, COMMENTS_PER_PAGE + 5, replies_each=2)

    first = shown_ids(client.get(article.get_absolute_url()).content.decode())
    second = shown_ids(client.get(f"{article.get_absolute_url()}?page=2").content.decode())

    assert len(first) == COMMENTS_PER_PAGE * 3
    assert first[:3][0] == tops[0].pk
    assert len(second) == 5 * 3
    assert second[0] == tops[COMMENTS_PER_PAGE].pk
    article.refresh_from_db()
    assert (article.approved_comment_count, article.approved_top_level_count) == (165, 55)


def test_the_heading_counts_every_comment_shown(client, article):
    make_thread(article, 3, replies_each=2)

    assert 'class="comment-count">(9)' in client.get(article.get_absolute_url()).content.decode()


def test_a_replys_permalink_is_the_page_of_its_comment(client, article):
    tops = make_thread(article, COMMENTS_PER_PAGE + 1)
    reply = CommentFactory(article=article, parent=tops[-1])

    assert reply.get_absolute_url() == f"{article.get_absolute_url()}?page=2#comment-{reply.pk}"
    assert reply.pk in shown_ids(client.get(f"{article.get_absolute_url()}?page=2").content.decode())


def test_replies_to_a_comment_held_again_are_hidden_and_uncounted(client, article, question):
    reply = CommentFactory(article=article, parent=question, body="An answer below")
    article.refresh_from_db()
    assert article.approved_comment_count == 2

    Comment.objects.filter(pk=question.pk).set_status(Comment.Status.PENDING, by=None)

    article.refresh_from_db()
    assert (article.approved_comment_count, article.approved_top_level_count) == (0, 0)
    assert "An answer below" not in client.get(article.get_absolute_url()).content.decode()
    assert client.get(f"/comments/{reply.pk}/report/").status_code == 404


def test_deleting_a_comment_deletes_its_replies_and_their_count(article, question):
    CommentFactory(article=article, parent=question)

    question.delete()

    article.refresh_from_db()
    assert not Comment.objects.exists()
    assert article.approved_comment_count == 0


def test_a_readers_held_reply_is_shown_to_them_under_its_comment(client, article, question, settings):
    settings.COMMENTS_MODERATION = "all"
    post_comment(client, article, parent=question.pk, body="My held reply")
    reply = Comment.objects.get(parent=question)

    mine = client.get(article.get_absolute_url()).content.decode()
    others = Client().get(article.get_absolute_url()).content.decode()

    assert reply_list_of(mine, question) == [reply.pk]
    assert "Only you can see your reply" in mine
    assert "My held reply" not in others


def test_staff_answers_show_a_badge_credentials_and_the_author_profile(client, article, question, editor):
    author = AuthorFactory(name="Dr. Ada Example", credentials="MD, dermatologist", user=editor)
    CommentFactory(
        article=article, parent=question, is_staff_answer=True, staff_author=author, answered_by=editor,
        author_name=author.name, body="Blue tones usually fade as the skin heals.",
    )  # fmt: skip

    html = client.get(article.get_absolute_url()).content.decode()

    answer = re.search(r'<article class="comment comment-staff".*?</article>', html, re.S).group(0)
    assert f'<a href="/authors/{author.slug}/">Dr. Ada Example</a>' in answer
    assert ">Staff</span>" in answer
    assert "MD, dermatologist" in answer


def test_markup_in_names_texts_and_credentials_of_a_conversation_is_shown_as_text(client, article, editor):
    hostile = '"><script>alert(1)</script>'
    question = CommentFactory(
        article=article, author_name=f"Asker{hostile}", body=f"Line one\n<b>bold</b>{hostile}"
    )
    CommentFactory(article=article, parent=question, author_name=f"Replier{hostile}", body=f"Reply{hostile}")
    author = AuthorFactory(name="Dr. Ada Example", credentials=f"MD{hostile}", user=editor)
    CommentFactory(
        article=article, parent=question, is_staff_answer=True, staff_author=author, answered_by=editor,
        author_name=author.name, body="An answer.",
    )  # fmt: skip

    html = client.get(article.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in html.split("</head>", 1)[1]
    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'aria-label="Replies to Asker{escaped}"' in html
    assert f"Line one<br>&lt;b&gt;bold&lt;/b&gt;{escaped}" in html
    assert f"Replier{escaped}</strong>" in html
    assert f'<span class="comment-credentials small">MD{escaped}</span>' in html
    assert f'<span class="visually-hidden"> the comment by Asker{escaped}</span>' in html


def test_a_pinned_answer_is_shown_at_the_top_of_the_first_page_only(client, article):
    tops = make_thread(article, COMMENTS_PER_PAGE + 1)
    CommentFactory(
        article=article, parent=tops[-1], is_staff_answer=True, pinned=True, body="The pinned one."
    )

    first = client.get(article.get_absolute_url()).content.decode()
    second = client.get(f"{article.get_absolute_url()}?page=2").content.decode()

    pinned = re.search(r'<aside class="pinned-answer.*?</aside>', first, re.S).group(0)
    assert "The pinned one." in pinned
    assert "Question 50" in pinned  # the comment it answers
    assert first.index("pinned-answer") < first.index('class="comment-list')
    assert "pinned-answer" not in second
    assert "The pinned one." in second  # and in its place in the thread


def test_a_pinned_answer_to_a_comment_held_again_is_not_shown(client, article, question):
    CommentFactory(
        article=article, parent=question, is_staff_answer=True, pinned=True, body="Pinned answer text"
    )
    Comment.objects.filter(pk=question.pk).set_status(Comment.Status.REJECTED, by=None)

    assert "Pinned answer text" not in client.get(article.get_absolute_url()).content.decode()


# Budgets -------------------------------------------------------------------------


def test_article_page_with_200_comments_100_replies_and_10_staff_answers_stays_within_five_queries(
    client, django_assert_max_num_queries
):
    article = ArticleFactory(side_effects=3)
    tops = make_thread(article, 100)
    make_replies = [
        Comment(
            article=article, parent=tops[n % 50], author_name=f"R{n}", author_email=f"r{n}@example.org",
            body=f"Reply {n}", status=Comment.Status.APPROVED, is_staff_answer=n < 10, pinned=n == 0,
            staff_author=AuthorFactory() if n < 10 else None,
            created_at=timezone.now() - timedelta(minutes=n),
        )
        for n in range(100)
    ]  # fmt: skip
    Comment.objects.bulk_create(make_replies)

    with django_assert_max_num_queries(5):
        html = client.get(article.get_absolute_url()).content.decode()

    assert len(shown_ids(html)) == 50 + 100  # the first 50 comments and the replies to them
    assert html.count(">Staff</span>") == 10 + 1  # the answers, and the pinned copy


def test_every_page_of_a_thread_with_replies_costs_the_same_queries(client, settings):
    short, long = ArticleFactory(), ArticleFactory()
    make_thread(short, 2, replies_each=1)
    make_thread(long, 160, replies_each=2)

    def count(address):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(address).status_code == 200
        return len(queries)

    addresses = [short.get_absolute_url(), long.get_absolute_url(), f"{long.get_absolute_url()}?page=3"]
    assert len({count(address) for address in addresses}) == 1
