"""Staff answers: Editors, Moderators and Reviewers answer readers' comments from the admin or
from a comment's reply page; answers are published at once, at most one pinned per article,
and the queue lists the questions still waiting for one."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from articles.models import Article
from comments.answers import AnswerRefused, publish_answer
from comments.models import Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory, ensure_roles

pytestmark = pytest.mark.django_db

QUEUE = "/admin/comments/comment/"


def answer_url(comment):
    return f"{QUEUE}{comment.pk}/answer/"


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def roles(db):
    ensure_roles()  # in case a transactional test emptied the groups the data migrations made


@pytest.fixture
def question(article):
    return CommentFactory(article=article, author_name="Pat Reader", body="Does the redness last long?")


@pytest.fixture
def staff(request):
    """A logged-in browser of each role allowed to answer, and its account."""
    user = request.getfixturevalue(request.param)
    return user, browser(user)


def the_answer():
    return Comment.objects.get(is_staff_answer=True)


# Publishing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("staff", ["editor", "moderator", "reviewer"], indirect=True)
def test_staff_of_each_answering_role_publish_an_answer_at_once(staff, question):
    user, client = staff

    response = client.post(answer_url(question), {"body": "It fades within two days."}, follow=True)

    answer = the_answer()
    assert response.redirect_chain == [(QUEUE, 302)]
    assert (answer.article, answer.parent, answer.body) == (
        question.article,
        question,
        "It fades within two days.",
    )
    assert answer.status == Comment.Status.APPROVED
    assert (answer.answered_by, answer.moderated_by) == (user, user)
    assert answer.moderated_at is not None
    assert answer.status_reason == "Staff answer"
    assert answer.author_email == user.email
    assert not answer.pinned
    assert answer in Comment.objects.shown()
    html = response.content.decode()
    assert "Your answer to Pat Reader’s comment is published" in html
    assert f'href="{answer.get_absolute_url()}"' in html
    assert answer.get_absolute_url() == f"{question.article.get_absolute_url()}#comment-{answer.pk}"


def test_an_answer_is_shown_with_the_author_profile_of_its_writer(reviewer_client, reviewer, question):
    reviewer_client.post(answer_url(question), {"body": "See a dermatologist if it lasts."})

    answer = the_answer()
    assert answer.staff_author == reviewer.author_profile
    assert answer.author_name == "Dr Ada Reviewer"


def test_without_an_author_profile_an_answer_has_the_full_name_else_the_username(question, editor):
    named = UserFactory(
        username="sam", first_name="Sam", last_name="Editor", is_staff=True, groups=["Editors"]
    )

    first = publish_answer(question, named, "First answer.")
    second = publish_answer(question, editor, "Second answer.")

    assert (first.author_name, first.staff_author) == ("Sam Editor", None)
    assert (second.author_name, second.staff_author) == ("editor", None)


def test_the_answer_page_shows_the_comment_and_the_form(moderator_client, question):
    html = moderator_client.get(answer_url(question)).content.decode()

    assert "Pat Reader" in html
    assert "Does the redness last long?" in html
    assert question.article.title in html
    assert 'name="body"' in html
    assert "Publish answer" in html


def test_staff_may_answer_when_the_thread_is_closed(moderator_client, question):
    Article.objects.filter(pk=question.article_id).update(comments_open=False)

    response = moderator_client.post(answer_url(question), {"body": "Closed, but answered."})

    assert response.status_code == 302
    assert the_answer().body == "Closed, but answered."


def test_answering_a_reply_attaches_the_answer_to_its_top_level_comment(moderator_client, question):
    reply = CommentFactory(article=question.article, parent=question, body="Mine lasted a week.")

    html = moderator_client.get(answer_url(reply)).content.decode()
    moderator_client.post(answer_url(reply), {"body": "A week is still normal."})

    assert "your answer goes under that comment" in html
    assert the_answer().parent == question


def test_the_same_answer_sent_twice_is_published_once(moderator_client, question):
    moderator_client.post(answer_url(question), {"body": "Twice?"})
    response = moderator_client.post(answer_url(question), {"body": "Twice?"}, follow=True)

    assert Comment.objects.filter(is_staff_answer=True).count() == 1
    assert "You had already published this answer" in response.content.decode()


def test_one_text_may_answer_two_comments_of_one_article(moderator, question):
    other = CommentFactory(article=question.article)

    publish_answer(question, moderator, "Thank you, fixed.")
    publish_answer(other, moderator, "Thank you, fixed.")

    assert set(Comment.objects.filter(is_staff_answer=True).values_list("parent", flat=True)) == {
        question.pk,
        other.pk,
    }


def test_an_answer_counts_among_the_comments_readers_see(moderator_client, question):
    moderator_client.post(answer_url(question), {"body": "Counted."})

    article = Article.objects.get(pk=question.article_id)
    assert (article.approved_comment_count, article.approved_top_level_count) == (2, 1)


# Refusals ------------------------------------------------------------------------------------


def test_staff_without_the_permission_get_403_and_nothing_is_saved(question):
    nobody = browser(UserFactory(username="plain-staff", is_staff=True))

    assert nobody.get(answer_url(question)).status_code == 403
    assert nobody.post(answer_url(question), {"body": "Let me in."}).status_code == 403
    assert not Comment.objects.filter(is_staff_answer=True).exists()


def test_readers_are_sent_to_the_login_page(client, question):
    response = client.post(answer_url(question), {"body": "Let me in."})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Comment.objects.filter(is_staff_answer=True).exists()


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM])
def test_a_comment_readers_do_not_see_is_not_answered(moderator_client, article, status):
    hidden = CommentFactory(article=article, status=status)

    page = moderator_client.get(answer_url(hidden))
    response = moderator_client.post(answer_url(hidden), {"body": "Too early."})

    assert "only approved comments can be answered" in page.content.decode()
    assert 'name="body"' not in page.content.decode()
    assert response.status_code == 409
    assert "Nothing was published." in response.content.decode()
    assert Comment.objects.count() == 1


@pytest.mark.parametrize(
    "article_state",
    [
        {"status": Article.Status.DRAFT},
        {"published_at": timezone.now() + timedelta(days=2)},  # scheduled
    ],
)
def test_a_comment_on_an_article_readers_do_not_see_is_not_answered(moderator_client, article_state):
    hidden = CommentFactory(article=ArticleFactory(**article_state))

    response = moderator_client.post(answer_url(hidden), {"body": "Not yet."})

    assert response.status_code == 409
    assert "Its article is not published" in response.content.decode()
    assert Comment.objects.count() == 1


def test_a_reply_under_a_rejected_comment_is_not_answered(moderator_client, question):
    reply = CommentFactory(article=question.article, parent=question)
    Comment.objects.filter(pk=question.pk).set_status(Comment.Status.REJECTED, None)

    response = moderator_client.post(answer_url(reply), {"body": "Hidden."})

    assert response.status_code == 409
    assert Comment.objects.filter(is_staff_answer=True).count() == 0


def test_a_comment_rejected_after_the_page_was_opened_is_not_answered(moderator, question):
    Comment.objects.filter(pk=question.pk).set_status(Comment.Status.REJECTED, moderator)

    with pytest.raises(AnswerRefused):
        publish_answer(question, moderator, "Stale page.")  # the object still says approved
    assert Comment.objects.filter(is_staff_answer=True).count() == 0


def test_an_empty_answer_shows_the_form_again_with_an_error(moderator_client, question):
    response = moderator_client.post(answer_url(question), {"body": "   ", "pinned": "on"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert re.search(r'<input[^>]*name="pinned"[^>]*checked', html)
    assert not Comment.objects.filter(is_staff_answer=True).exists()


def test_a_too_long_answer_keeps_the_typed_text(moderator_client, question):
    typed = "Long answer. " * 400  # over 5,000 characters

    response = moderator_client.post(answer_url(question), {"body": typed})

    assert response.status_code == 400
    assert "Long answer. Long answer." in response.content.decode()
    assert not Comment.objects.filter(is_staff_answer=True).exists()


def test_an_unknown_comment_sends_back_to_the_queue(moderator_client):
    response = moderator_client.get(f"{QUEUE}999999/answer/", follow=True)

    assert response.redirect_chain == [(QUEUE, 302)]
    assert "That comment does not exist" in response.content.decode()


# From the public reply page -------------------------------------------------------------------


def staff_form_of(html):
    """The action and fields of the reply page's staff answer form, as a browser would send them."""
    form = re.search(r'<form[^>]*action="([^"]*/answer/)"[^>]*>(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    return form.group(1), fields


def test_the_reply_page_staff_form_publishes_and_shows_the_answer_on_the_article(editor, question):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    action, fields = staff_form_of(client.get(f"/comments/{question.pk}/reply/").content.decode())

    response = client.post(action, {**fields, "body": "Answered from the article."})

    answer = the_answer()
    assert action == answer_url(question)
    assert response.status_code == 303
    assert response["Location"] == answer.get_absolute_url()
    assert "Your answer is published." in client.get(response["Location"]).content.decode()


def test_the_staff_form_needs_its_csrf_token(editor, question):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)

    response = client.post(answer_url(question), {"body": "No token.", "next": "article"})

    assert response.status_code == 403
    assert not Comment.objects.filter(is_staff_answer=True).exists()


@pytest.mark.parametrize("next_page", ["https://evil.example/", "//evil.example/", "/articles/elsewhere/"])
def test_a_next_page_outside_the_allow_list_sends_back_to_the_queue(editor_client, question, next_page):
    response = editor_client.post(answer_url(question), {"body": "Where next?", "next": next_page})

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    assert the_answer().body == "Where next?"


def test_the_staff_form_with_errors_keeps_its_way_back_to_the_article(editor_client, question):
    response = editor_client.post(answer_url(question), {"body": "", "next": "article"})

    assert response.status_code == 400
    assert '<input type="hidden" name="next" value="article">' in response.content.decode()


# Pinning --------------------------------------------------------------------------------------


def test_pinning_an_answer_unpins_the_other_answer_of_the_article(moderator, moderator_client, question):
    other_question = CommentFactory(article=question.article)
    elsewhere = publish_answer(CommentFactory(), moderator, "On another article.", pinned=True)
    first = publish_answer(question, moderator, "First pinned.", pinned=True)

    moderator_client.post(answer_url(other_question), {"body": "Now this one.", "pinned": "on"})

    second = Comment.objects.get(body="Now this one.")
    pinned = set(Comment.objects.filter(pinned=True).values_list("pk", flat=True))
    assert pinned == {second.pk, elsewhere.pk}
    assert first.pk not in pinned


def run_action(client, action, comments):
    return client.post(
        f"{QUEUE}?status=all",
        {"action": action, ACTION_CHECKBOX_NAME: [str(comment.pk) for comment in comments]},
        follow=True,
    )


def test_the_pin_action_pins_one_answer_per_article_and_says_so(moderator, moderator_client, question):
    publish_answer(question, moderator, "Pinned first.", pinned=True)
    older = publish_answer(CommentFactory(article=question.article), moderator, "Older.")
    newer = publish_answer(CommentFactory(article=question.article), moderator, "Newer.")
    reader_comment = CommentFactory(article=question.article)

    response = run_action(moderator_client, "pin_answers", [older, newer, reader_comment])

    assert set(Comment.objects.filter(pinned=True).values_list("pk", flat=True)) == {newer.pk}
    html = response.content.decode()
    assert "1 answer pinned to the top of the thread" in html
    assert "1 of the selected comments is not a published staff answer" in html


def test_the_unpin_action_unpins_and_says_so(moderator, moderator_client, question):
    answer = publish_answer(question, moderator, "Pinned.", pinned=True)

    response = run_action(moderator_client, "unpin_answers", [answer])

    assert not Comment.objects.get(pk=answer.pk).pinned
    assert "1 answer unpinned." in response.content.decode()


def test_a_reviewer_pins_but_cannot_moderate(reviewer_client, reviewer, question):
    answer = publish_answer(question, reviewer, "Pin me.")
    pending = CommentFactory(article=question.article, status=Comment.Status.PENDING)

    run_action(reviewer_client, "pin_answers", [answer])
    run_action(reviewer_client, "approve_comments", [pending])
    changed = reviewer_client.post(
        f"{QUEUE}{pending.pk}/change/", {"author_name": "x", "body": "x", "status": "approved"}
    )

    assert Comment.objects.get(pk=answer.pk).pinned
    assert Comment.objects.get(pk=pending.pk).status == Comment.Status.PENDING
    assert changed.status_code == 403


# The queue ------------------------------------------------------------------------------------


def listed(client, query):
    response = client.get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    return {comment.pk for comment in response.context["cl"].result_list}


def test_questions_without_an_answer_lists_exactly_the_unanswered_ones(moderator, moderator_client, article):
    unanswered = CommentFactory(article=article)
    with_reader_reply = CommentFactory(article=article)
    CommentFactory(article=article, parent=with_reader_reply)
    answered = CommentFactory(article=article)
    publish_answer(answered, moderator, "Answered.")
    answer_rejected_since = CommentFactory(article=article)
    rejected = publish_answer(answer_rejected_since, moderator, "Wrong answer.")
    Comment.objects.filter(pk=rejected.pk).set_status(Comment.Status.REJECTED, moderator)
    CommentFactory(article=article, status=Comment.Status.PENDING)
    CommentFactory(article=ArticleFactory(status=Article.Status.DRAFT))

    assert listed(moderator_client, "answers=unanswered") == {
        unanswered.pk,
        with_reader_reply.pk,
        answer_rejected_since.pk,
    }


def test_the_staff_answers_filter_lists_staff_answers_whatever_their_status(
    moderator, moderator_client, question
):
    kept = publish_answer(question, moderator, "Kept.")
    rejected = publish_answer(CommentFactory(article=question.article), moderator, "Rejected since.")
    Comment.objects.filter(pk=rejected.pk).set_status(Comment.Status.REJECTED, moderator)

    assert listed(moderator_client, "answers=staff") == {kept.pk, rejected.pk}
    assert listed(moderator_client, "answers=nonsense") == set()


def test_the_answers_filter_choices_set_aside_the_status_filter(moderator_client):
    html = moderator_client.get(f"{QUEUE}?status=pending").content.decode()

    assert 'href="?answers=unanswered"' in html


def test_the_queue_marks_staff_answers_and_links_each_answerable_comment(
    moderator, moderator_client, question
):
    answer = publish_answer(question, moderator, "Marked.", pinned=True)
    pending = CommentFactory(article=question.article, status=Comment.Status.PENDING)

    html = moderator_client.get(f"{QUEUE}?status=all").content.decode()

    assert f'href="{answer_url(question)}"' in html
    assert f'href="{answer_url(answer)}"' not in html  # a reply: answered through its comment
    assert f'href="{answer_url(pending)}"' not in html
    assert "Yes, pinned" in html


def test_who_only_reads_comments_gets_no_answer_link(question):
    reader_of_comments = UserFactory(username="reads-comments", is_staff=True)
    reader_of_comments.user_permissions.add(Permission.objects.get(codename="view_comment"))

    html = browser(reader_of_comments).get(f"{QUEUE}?status=all").content.decode()

    assert "Pat Reader" in html
    assert answer_url(question) not in html
    assert browser(reader_of_comments).get(answer_url(question)).status_code == 403


def test_the_change_page_links_to_the_answer_page(moderator_client, question):
    pending = CommentFactory(article=question.article, status=Comment.Status.PENDING)

    html = moderator_client.get(f"{QUEUE}{question.pk}/change/").content.decode()
    pending_html = moderator_client.get(f"{QUEUE}{pending.pk}/change/").content.decode()

    assert f'<a href="{answer_url(question)}">Answer this comment</a>' in html
    assert "Answer this comment" not in pending_html


def test_a_reviewer_opens_the_queue_and_a_comment_without_the_commenters_details(reviewer_client, question):
    Comment.objects.filter(pk=question.pk).update(ip_address="203.0.113.77")

    queue = reviewer_client.get(f"{QUEUE}?status=all")
    change = reviewer_client.get(f"{QUEUE}{question.pk}/change/").content.decode()
    searched = reviewer_client.get(f"{QUEUE}?status=all&q={question.author_email}")

    assert queue.status_code == 200
    assert "Pat Reader" in queue.content.decode()
    assert "Does the redness last long?" in change
    assert question.author_email not in change
    assert "203.0.113.77" not in change
    assert "Answer this comment" in change
    assert searched.context["cl"].result_count == 0  # no finding commenters by their email


def test_the_queue_with_staff_answers_stays_within_its_query_budget(
    moderator, moderator_client, django_assert_max_num_queries
):
    articles = ArticleFactory.create_batch(5)
    questions = [CommentFactory(article=articles[n % 5]) for n in range(80)]
    for n in range(10):
        CommentFactory(article=articles[n % 5], parent=questions[n])
        publish_answer(questions[n + 10], moderator, f"Answer {n}.", pinned=n < 5)
    assert Comment.objects.count() == 100

    for query in ("status=all", "answers=unanswered", "answers=staff"):
        with django_assert_max_num_queries(12):
            response = moderator_client.get(f"{QUEUE}?{query}")
        assert response.status_code == 200


def test_answering_leaves_the_article_as_it_was(moderator_client, question):
    article = Article.objects.get(pk=question.article_id)

    moderator_client.post(answer_url(question), {"body": "Only a comment."})

    after = Article.objects.get(pk=article.pk)
    assert (after.title, after.body, after.updated_at) == (article.title, article.body, article.updated_at)
