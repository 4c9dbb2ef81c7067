"""A reader asks, confirms their address, a moderator publishes the question and answers it
from the admin, and the reader follows the emailed link to the answer; a reader unsubscribes
in one click. Every email goes through the site's queue to a real SMTP server (aiosmtpd)
started by the test, and is read from there."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from articles.models import Author
from comments.models import Comment, NotificationAddress
from smpinfo.mail_queue import deliver_queued_mail
from tests.e2e.test_comments import HUMAN_TYPING_MS, run_admin_action
from tests.factories import ArticleFactory, CommentFactory
from tests.test_email_queue import use_queue

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTION = "Is it normal that the dots look a little blue after a week?"
ANSWER = "Yes: for the first weeks the pigment settles and can look cooler. It fades to its final tone."
READER = "robin@example.org"


@pytest.fixture
def mail(inbox, settings, live_server):
    """The real SMTP server (tests/conftest.py) behind the site's queue; links in emails point
    at the live server, as they point at SITE_URL on the real site."""
    use_queue(settings, inbox.port)
    settings.SITE_URL = live_server.url
    settings.COMMENTS_NOTIFY_EMAILS = ["desk@clinic.example"]
    settings.COMMENTS_MODERATION = "all"
    return inbox


def delivered_to(inbox, address):
    """Send what the queue holds (as manage.py deliver_mail does), then the messages `address`
    received, oldest first."""
    deliver_queued_mail()
    return [item["message"] for item in inbox.messages if address in item["to"]]


def link_in(message, path):
    """The first link to `path` (a start of a path, e.g. "/comments/confirm/") in the text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"https?://[^\s]+{re.escape(path)}[^\s]*", text)
    assert match, text
    return match.group(0)


def test_a_reader_asks_a_moderator_answers_and_the_reader_follows_the_email_to_the_answer(
    mail, page, staff_page, screenshot
):
    article = ArticleFactory(comments_open=True, title="Healing after SMP")
    Author.objects.create(name="Dr. Sam Example", slug="sam-example", credentials="MD, dermatologist")

    # The reader asks, and ticks the box.
    page.goto(article.get_absolute_url())
    form = page.locator("#comment-form")
    form.get_by_label("Name").fill("Robin Reader")
    form.get_by_role("textbox", name=re.compile(r"^Email")).fill(READER)
    form.get_by_role("textbox", name=re.compile(r"^Comment")).fill(QUESTION)
    form.get_by_label("Email me when my comment is published and when someone replies").check()
    page.wait_for_timeout(HUMAN_TYPING_MS)
    form.get_by_role("button", name="Send comment").click()
    page.wait_for_url(f"**{article.get_absolute_url()}#comments")

    # The first email asks to confirm the address: the link opens a page whose button confirms.
    (confirmation,) = delivered_to(mail, READER)
    page.goto(link_in(confirmation, "/comments/confirm/"))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your email address is confirmed")

    # A moderator publishes the question and answers it from the queue.
    question = Comment.objects.get(body=QUESTION)
    moderator = staff_page("morgan", "Moderators")
    Author.objects.filter(slug="sam-example").update(user=get_user_model().objects.get(username="morgan"))
    moderator.goto("/admin/comments/comment/?status=pending")
    run_admin_action(moderator, question.pk, "Approve selected comments")
    expect(moderator.locator(".messagelist")).to_contain_text("approved")
    moderator.goto("/admin/comments/comment/?answers=unanswered")
    moderator.get_by_role("link", name="Answer", exact=True).click()
    moderator.get_by_role("textbox", name=re.compile(r"^Answer")).fill(ANSWER)
    moderator.get_by_role("button", name="Publish answer").click()
    expect(moderator.locator(".messagelist")).to_contain_text("published")
    screenshot(moderator, "moderator")

    # The reader hears that the question is published, then that it has an answer.
    subjects = [message["Subject"] for message in delivered_to(mail, READER)]
    assert len(subjects) == 3, subjects
    reply_notice = delivered_to(mail, READER)[-1]
    answer = Comment.objects.get(body=ANSWER)
    page.goto(link_in(reply_notice, article.get_absolute_url()))

    shown = page.locator(f"#comment-{answer.pk}")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text(ANSWER)
    expect(shown.locator(".comment-staff-badge")).to_have_text("Staff")
    expect(shown.get_by_role("link", name="Dr. Sam Example", exact=True)).to_have_attribute(
        "href", "/authors/sam-example/"
    )
    expect(
        page.locator(f".comment-replies[aria-label='Replies to Robin Reader'] #comment-{answer.pk}")
    ).to_have_count(1)
    screenshot(page)
    assert answer.parent_id == question.pk and answer.is_staff_answer


def test_a_reader_unsubscribes_in_one_click_from_an_email(mail, page, screenshot):
    article = ArticleFactory(comments_open=True)
    NotificationAddress.objects.create(email=READER, confirmed_at=article.published_at)
    comment = CommentFactory(article=article, author_email=READER, notify=True, status="pending")
    Comment.objects.filter(pk=comment.pk).set_status(Comment.Status.APPROVED, by=None)

    (notice,) = delivered_to(mail, READER)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page.goto(link_in(notice, "/comments/unsubscribe/"))
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.locator("main")).to_contain_text("You will get no more emails from smpinfo")
    screenshot(page)
    assert NotificationAddress.objects.get(email=READER).unsubscribed_at is not None
    assert not Comment.objects.get(pk=comment.pk).notify
