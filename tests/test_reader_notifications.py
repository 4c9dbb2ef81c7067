"""Readers who tick “Email me when my comment is published and when someone replies”: a
confirmation first (double opt-in), then the publication and reply notices, every email in the
site's queue in the transaction of the change, each with a one-click unsubscribe (RFC 8058)."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import signing
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from mailer.models import Message, MessageLog

from comments import subscriptions
from comments.answers import publish_answer
from comments.email_moderation import make_token as moderation_token
from comments.models import Comment, NotificationAddress
from comments.personal_data import export
from tests.commands import call
from tests.factories import ArticleFactory, CommentFactory, admin_comment_form_data, post_comment
from tests.test_email_queue import use_queue

pytestmark = pytest.mark.django_db

SITE = "https://smpinfo.example"
QUEUE = "/admin/comments/comment/"
EVERY_STATUS = f"{QUEUE}?status=all"


@pytest.fixture(autouse=True)
def site_queue(settings):
    """The site's mail queue (pytest-django puts its outbox in its place), links from SITE_URL,
    and no moderators to email about held comments (their email is tested elsewhere)."""
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.SITE_URL = SITE
    settings.COMMENTS_NOTIFY_EMAILS = ["desk@clinic.example"]


@pytest.fixture
def article(db):
    return ArticleFactory(title="Blue dots")


def emails_to(address):
    """The queued emails (django-mailer's rows, as their EmailMessage) to `address`, oldest first."""
    found = [message.email for message in Message.objects.order_by("pk")]
    return [email for email in found if address in email.to]


def subjects_to(address):
    return [email.subject for email in emails_to(address)]


def confirmed(email):
    return NotificationAddress.objects.create(email=email, confirmed_at=timezone.now())


def link_in(email, kind):
    """The site path of the `kind` link ("confirm", "unsubscribe") in an email's text part."""
    match = re.search(rf"{re.escape(SITE)}(/comments/{kind}/[^/\s]+/)", email.body)
    assert match, email.body
    return match.group(1)


def html_of(email):
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    return html


def approve(moderator_client, *comments):
    return moderator_client.post(
        EVERY_STATUS,
        {"action": "approve_comments", ACTION_CHECKBOX_NAME: [str(c.pk) for c in comments]},
        follow=True,
    )


def moderate(moderator_client, comment, action):
    return moderator_client.post(
        EVERY_STATUS,
        {"action": action, ACTION_CHECKBOX_NAME: [str(comment.pk)]},
        follow=True,
    )


# The confirmation (double opt-in) ----------------------------------------------------------------


def test_ticking_the_box_queues_one_confirmation_and_nothing_else(client, article):
    post_comment(client, article, author_email="Sam@Example.org", notify="on")

    [email] = emails_to("sam@example.org")
    assert email.subject == "[smpinfo] Confirm your email for your comment on “Blue dots”"
    assert "/comments/confirm/" in email.body
    assert "/comments/confirm/" in html_of(email)
    address = NotificationAddress.objects.get()
    assert address.email == "sam@example.org"
    assert address.confirmation_sent_at is not None
    assert not address.may_be_emailed


def test_no_email_at_all_without_the_box(client, article, moderator_client):
    post_comment(client, article, author_email="sam@example.org")
    approve(moderator_client, Comment.objects.get())

    assert emails_to("sam@example.org") == []
    assert not NotificationAddress.objects.exists()


def test_a_second_comment_within_a_day_queues_no_second_confirmation(client, article):
    post_comment(client, article, body="First", notify="on")
    post_comment(client, article, body="Second", notify="on")

    assert len(emails_to("sam@example.org")) == 1


def test_a_comment_a_day_later_asks_to_confirm_again(client, article):
    post_comment(client, article, body="First", notify="on")
    NotificationAddress.objects.update(confirmation_sent_at=timezone.now() - timedelta(days=1, minutes=1))

    post_comment(client, article, body="Second", notify="on")

    assert len(emails_to("sam@example.org")) == 2


def test_nothing_but_the_confirmation_is_sent_before_confirming(client, article, moderator_client):
    post_comment(client, article, body="Question", notify="on")
    question = Comment.objects.get()
    approve(moderator_client, question)
    CommentFactory(article=article, parent=question, author_email="kim@example.org")

    assert [email.subject for email in emails_to("sam@example.org")] == [
        "[smpinfo] Confirm your email for your comment on “Blue dots”"
    ]


def test_spam_asks_nobody_to_confirm(client, article):
    post_comment(client, article, honeypot="bot", notify="on")

    assert Comment.objects.get().status == Comment.Status.SPAM
    assert emails_to("sam@example.org") == []


def test_the_confirmation_link_opens_a_page_and_changes_nothing(client, article):
    post_comment(client, article, notify="on")
    [email] = emails_to("sam@example.org")

    response = client.get(link_in(email, "confirm"))

    assert response.status_code == 200
    assert "s***@example.org" in response.text
    assert '<form method="post">' in response.text
    assert not NotificationAddress.objects.get().may_be_emailed
    assert "no-cache" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.text


def test_the_confirmation_button_confirms_the_address(client, article):
    post_comment(client, article, notify="on")
    reader = Client(enforce_csrf_checks=True)  # the email opened in another browser
    link = link_in(emails_to("sam@example.org")[0], "confirm")
    page = reader.get(link)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    response = reader.post(link, {"csrfmiddlewaretoken": token})

    assert response.status_code == 200
    assert "Your email address is confirmed" in response.text
    assert NotificationAddress.objects.get().may_be_emailed


def test_a_confirmation_link_used_twice_says_already_confirmed(client, article):
    post_comment(client, article, notify="on")
    link = link_in(emails_to("sam@example.org")[0], "confirm")
    client.post(link)
    confirmed_at = NotificationAddress.objects.get().confirmed_at

    again = client.post(link)

    assert again.status_code == 200
    assert "already confirmed" in again.text
    assert NotificationAddress.objects.get().confirmed_at == confirmed_at


def test_a_confirmed_address_stays_confirmed_for_later_comments(client, article):
    post_comment(client, article, body="First", notify="on")
    client.post(link_in(emails_to("sam@example.org")[0], "confirm"))
    NotificationAddress.objects.update(confirmation_sent_at=timezone.now() - timedelta(days=30))
    Message.objects.all().delete()

    post_comment(client, article, body="A month later", notify="on")

    assert emails_to("sam@example.org") == []  # held: no confirmation, and no notice yet
    assert NotificationAddress.objects.get().may_be_emailed


def test_a_forged_confirmation_link_is_refused_and_changes_nothing(client, article):
    post_comment(client, article, notify="on")
    link = link_in(emails_to("sam@example.org")[0], "confirm")
    forged = link[:-4] + ("A" if link[-4] != "A" else "B") + link[-3:]

    responses = [client.post(forged), client.post("/comments/confirm/not-a-token/")]

    assert [response.status_code for response in responses] == [400, 400]
    assert "This confirmation link is not valid" in responses[0].text
    assert not NotificationAddress.objects.get().may_be_emailed


def test_an_unsubscribe_token_does_not_confirm(client, article):
    post_comment(client, article, notify="on")
    unsubscribe_token = link_in(emails_to("sam@example.org")[0], "unsubscribe").split("/")[-2]

    response = client.post(f"/comments/confirm/{unsubscribe_token}/")

    assert response.status_code == 400
    assert not NotificationAddress.objects.get().may_be_emailed


def test_an_expired_confirmation_link_is_refused_and_changes_nothing(client, article, monkeypatch):
    address = NotificationAddress.objects.create(email="sam@example.org")
    eight_days_ago = int(time.time()) - 8 * 86400
    with monkeypatch.context() as past:
        past.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(eight_days_ago))
        link = subscriptions.confirmation_link(address).removeprefix(SITE)

    response = client.post(link)

    assert response.status_code == 410
    assert "This confirmation link has expired" in response.text
    assert "7 days" in response.text
    assert not NotificationAddress.objects.get().may_be_emailed


# The publication notice ---------------------------------------------------------------------------


def test_a_confirmed_address_hears_when_the_admin_action_publishes_its_comment(
    client, article, moderator_client
):
    confirmed("sam@example.org")
    post_comment(client, article, notify="on")
    comment = Comment.objects.get()
    assert emails_to("sam@example.org") == []  # held: nothing yet

    approve(moderator_client, comment)

    [email] = emails_to("sam@example.org")
    assert email.subject == "[smpinfo] Your comment on “Blue dots” is published"
    permalink = f"{SITE}{comment.get_absolute_url()}"
    assert permalink in email.body
    assert permalink in html_of(email)


def test_a_confirmed_address_hears_when_the_policy_publishes_its_comment_at_once(client, article, settings):
    settings.COMMENTS_MODERATION = "none"
    confirmed("sam@example.org")

    post_comment(client, article, notify="on")

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.APPROVED
    [email] = emails_to("sam@example.org")
    assert email.subject == "[smpinfo] Your comment on “Blue dots” is published"
    assert f"{SITE}{comment.get_absolute_url()}" in email.body


def test_the_admin_change_form_publishing_a_comment_sends_the_notice_once(article, moderator_client):
    confirmed("sam@example.org")
    comment = CommentFactory(
        article=article, author_email="sam@example.org", notify=True, status=Comment.Status.PENDING
    )
    form = admin_comment_form_data(comment, status="approved")

    moderator_client.post(f"{QUEUE}{comment.pk}/change/", form)
    moderator_client.post(f"{QUEUE}{comment.pk}/change/", {**form, "body": "Corrected by a moderator."})

    assert subjects_to("sam@example.org") == ["[smpinfo] Your comment on “Blue dots” is published"]


def test_the_moderation_link_from_the_email_publishing_a_comment_sends_the_notice(
    client, article, moderator_client
):
    confirmed("sam@example.org")
    post_comment(client, article, notify="on")
    comment = Comment.objects.get()

    moderator_client.post(f"/comments/moderate/{moderation_token(comment, 'approve')}/")

    assert Comment.objects.get().status == Comment.Status.APPROVED
    assert subjects_to("sam@example.org") == ["[smpinfo] Your comment on “Blue dots” is published"]


def test_approving_a_comment_approved_already_sends_nothing_more(article, moderator_client):
    confirmed("sam@example.org")
    comment = CommentFactory(article=article, author_email="sam@example.org", notify=True)
    Message.objects.all().delete()  # the notice of its publication

    approve(moderator_client, comment)

    assert emails_to("sam@example.org") == []


def test_a_rejected_or_spam_comment_gets_no_notice(client, article, moderator_client):
    confirmed("sam@example.org")
    post_comment(client, article, body="One", notify="on")
    post_comment(client, article, body="Two", notify="on")
    one, two = Comment.objects.order_by("pk")

    moderate(moderator_client, one, "reject_comments")
    moderate(moderator_client, two, "mark_as_spam")

    assert emails_to("sam@example.org") == []


def test_a_spam_comment_rescued_by_a_moderator_asks_its_address_to_confirm(client, article, moderator_client):
    post_comment(client, article, honeypot="bot", notify="on")

    approve(moderator_client, Comment.objects.get())

    assert subjects_to("sam@example.org") == ["[smpinfo] Confirm your email for your comment on “Blue dots”"]


# The reply notice ---------------------------------------------------------------------------------


@pytest.fixture
def conversation(article):
    """Sam's question (notify, confirmed), Kim's earlier reply (notify, confirmed), Lee's
    earlier reply without the box (confirmed from another comment)."""
    for email in ("sam@example.org", "kim@example.org", "lee@example.org"):
        confirmed(email)
    question = CommentFactory(article=article, author_name="Sam", author_email="sam@example.org", notify=True)
    CommentFactory(article=article, parent=question, author_email="kim@example.org", notify=True)
    CommentFactory(article=article, parent=question, author_email="lee@example.org", notify=False)
    Message.objects.all().delete()  # the notices of their publication
    return question


def held_reply(question, **fields):
    fields = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Same for me.", **fields}
    return CommentFactory(article=question.article, parent=question, status=Comment.Status.PENDING, **fields)


def test_an_approved_reply_notifies_the_opted_in_participants(conversation, moderator_client):
    reply = held_reply(conversation)

    approve(moderator_client, reply)

    expected = ["[smpinfo] Ann replied on “Blue dots”"]
    assert subjects_to("sam@example.org") == expected
    assert subjects_to("kim@example.org") == expected
    assert emails_to("lee@example.org") == []  # did not tick the box
    [email] = emails_to("sam@example.org")
    assert "Same for me." in email.body
    assert f"{SITE}{reply.get_absolute_url()}" in email.body
    assert f"{SITE}{reply.get_absolute_url()}" in html_of(email)


@pytest.mark.parametrize("action", [None, "reject_comments", "mark_as_spam"])
def test_a_pending_rejected_or_spam_reply_notifies_nobody(conversation, moderator_client, action):
    reply = held_reply(conversation)

    if action:
        moderate(moderator_client, reply, action)

    assert Message.objects.count() == 0


def test_the_replier_is_not_told_of_their_own_reply(conversation, moderator_client):
    reply = held_reply(conversation, author_email="kim@example.org", notify=True)

    approve(moderator_client, reply)

    assert subjects_to("kim@example.org") == ["[smpinfo] Your comment on “Blue dots” is published"]
    assert subjects_to("sam@example.org") == ["[smpinfo] Ann replied on “Blue dots”"]


def test_an_address_in_the_conversation_twice_gets_one_email(conversation, moderator_client):
    CommentFactory(
        article=conversation.article, parent=conversation, author_email="sam@example.org", notify=True
    )
    Message.objects.all().delete()
    reply = held_reply(conversation)

    approve(moderator_client, reply)

    assert len(emails_to("sam@example.org")) == 1


def test_replies_approved_together_make_one_email_per_address(conversation, moderator_client):
    first, second = held_reply(conversation), held_reply(conversation, body="And for me.", author_name="Bo")

    approve(moderator_client, first, second)

    assert subjects_to("sam@example.org") == ["[smpinfo] 2 new replies on “Blue dots”"]
    [email] = emails_to("sam@example.org")
    assert "Same for me." in email.body
    assert "And for me." in email.body


def test_later_repliers_and_other_conversations_hear_nothing(conversation, moderator_client):
    reply = held_reply(conversation)
    confirmed("late@example.org")
    confirmed("other@example.org")
    CommentFactory(
        article=conversation.article, parent=conversation, author_email="late@example.org", notify=True
    )
    other = CommentFactory(article=conversation.article, author_email="other@example.org", notify=True)
    Message.objects.all().delete()

    approve(moderator_client, reply)

    assert emails_to("late@example.org") == []
    assert emails_to("other@example.org") == []
    assert other.replies.count() == 0


def test_a_staff_answer_notifies_the_participants_but_not_its_writer(conversation, moderator):
    confirmed(moderator.email)
    CommentFactory(
        article=conversation.article, parent=conversation, author_email=moderator.email, notify=True
    )
    Message.objects.all().delete()

    with transaction.atomic():
        publish_answer(conversation, moderator, "It fades as it heals.")

    assert subjects_to("sam@example.org") == [f"[smpinfo] {moderator.username} replied on “Blue dots”"]
    assert "(smpinfo staff)" in emails_to("sam@example.org")[0].body
    assert emails_to(moderator.email) == []


def test_an_unconfirmed_participant_hears_nothing(conversation, moderator_client):
    NotificationAddress.objects.filter(email="kim@example.org").update(confirmed_at=None)

    approve(moderator_client, held_reply(conversation))

    assert emails_to("kim@example.org") == []


# Unsubscribing ------------------------------------------------------------------------------------


def unsubscribe_path(email="sam@example.org"):
    return subscriptions.unsubscribe_link(NotificationAddress.objects.get(email=email)).removeprefix(SITE)


def test_every_reader_email_has_the_one_click_unsubscribe_headers(conversation, moderator_client):
    approve(moderator_client, held_reply(conversation))
    [email] = emails_to("sam@example.org")

    assert email.extra_headers["List-Unsubscribe"] == f"<{SITE}{unsubscribe_path()}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"{SITE}{unsubscribe_path()}" in email.body
    assert f"{SITE}{unsubscribe_path()}" in html_of(email)


def test_the_unsubscribe_link_opens_a_page_and_changes_nothing(client, conversation):
    response = client.get(unsubscribe_path())

    assert response.status_code == 200
    assert "s***@example.org" in response.text
    assert '<form method="post">' in response.text
    assert NotificationAddress.objects.get(email="sam@example.org").may_be_emailed
    assert Comment.objects.get(pk=conversation.pk).notify
    assert "no-cache" in response["Cache-Control"]


def test_the_one_click_post_unsubscribes_without_cookies_or_csrf_token(conversation, moderator_client):
    held = held_reply(conversation)
    mail_program = Client(enforce_csrf_checks=True)
    Message.objects.all().delete()

    response = mail_program.post(
        unsubscribe_path(), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    approve(moderator_client, held)

    assert response.status_code == 200
    assert "You will get no more emails from smpinfo at s***@example.org" in response.text
    address = NotificationAddress.objects.get(email="sam@example.org")
    assert address.unsubscribed_at is not None
    assert not Comment.objects.get(pk=conversation.pk).notify
    assert emails_to("sam@example.org") == []
    assert subjects_to("kim@example.org") == ["[smpinfo] Ann replied on “Blue dots”"]


def test_the_unsubscribe_button_unsubscribes_and_says_so_once(client, conversation):
    first = client.post(unsubscribe_path())
    second = client.post(unsubscribe_path())

    assert "You are unsubscribed" in first.text
    assert "unsubscribed already" in second.text
    assert not NotificationAddress.objects.get(email="sam@example.org").may_be_emailed


def test_unsubscribing_drops_reader_emails_still_queued(client, conversation, moderator_client):
    approve(moderator_client, held_reply(conversation))
    assert len(emails_to("sam@example.org")) == 1

    client.post(unsubscribe_path())

    assert emails_to("sam@example.org") == []
    assert len(emails_to("kim@example.org")) == 1


def test_a_forged_unsubscribe_link_is_refused_and_changes_nothing(client, conversation):
    path = unsubscribe_path()
    forged = path[:-4] + ("A" if path[-4] != "A" else "B") + path[-3:]

    responses = [client.post(forged), client.post("/comments/unsubscribe/not-a-token/")]

    assert [response.status_code for response in responses] == [400, 400]
    assert "This unsubscribe link is not valid" in responses[0].text
    assert NotificationAddress.objects.get(email="sam@example.org").may_be_emailed


def test_opting_in_again_after_unsubscribing_asks_to_confirm_again(client, article):
    post_comment(client, article, body="First", notify="on")
    client.post(link_in(emails_to("sam@example.org")[0], "confirm"))
    client.post(unsubscribe_path())

    post_comment(client, article, body="Second", notify="on")

    # The first confirmation was dropped from the queue by the unsubscription (had it waited).
    assert subjects_to("sam@example.org") == ["[smpinfo] Confirm your email for your comment on “Blue dots”"]
    address = NotificationAddress.objects.get()
    assert address.confirmation_sent_at > address.unsubscribed_at


def test_confirming_after_unsubscribing_subscribes_again(client, article):
    post_comment(client, article, notify="on")
    link = link_in(emails_to("sam@example.org")[0], "confirm")
    client.post(link)
    client.post(unsubscribe_path())

    response = client.post(link)

    assert "Your email address is confirmed" in response.text
    address = NotificationAddress.objects.get()
    assert address.may_be_emailed
    assert address.unsubscribed_at is None


# The queue and the mail server ------------------------------------------------------------------


def test_a_comment_rolled_back_queues_nothing(client, article, settings):
    settings.COMMENTS_MODERATION = "none"
    confirmed("kim@example.org")
    question = CommentFactory(article=article, author_email="kim@example.org", notify=True)
    Message.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        post_comment(client, article, notify="on", parent=str(question.pk))
        assert len(emails_to("sam@example.org")) == 1  # the confirmation, queued with the comment
        assert len(emails_to("kim@example.org")) == 1  # the reply notice
        raise RuntimeError("the transaction fails after the comment was saved")

    assert Comment.objects.count() == 1
    assert not Message.objects.exists()
    assert not NotificationAddress.objects.filter(email="sam@example.org").exists()


def test_an_approval_rolled_back_queues_nothing(conversation):
    reply = held_reply(conversation)

    with pytest.raises(RuntimeError), transaction.atomic():
        Comment.objects.filter(pk=reply.pk).set_status(Comment.Status.APPROVED, None)
        assert Message.objects.count() == 2
        raise RuntimeError

    assert not Message.objects.exists()


def test_a_delivered_reader_email_has_both_parts_and_the_unsubscribe_headers(
    settings, inbox, conversation, moderator_client
):
    use_queue(settings, inbox.port)
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    approve(moderator_client, held_reply(conversation))

    call("deliver_mail", "--once")

    [received] = [m for m in inbox.messages if m["to"] == ["sam@example.org"]]
    message = received["message"]
    # The link as the email has it (folded, as a long header may be): its token carries the
    # second it was signed, so a link made here may differ from it; it must name the reader.
    link = message["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">")
    token = link.removeprefix(SITE).strip("/").rsplit("/", 1)[-1]
    assert received["subject"] == "[smpinfo] Ann replied on “Blue dots”"
    assert link.startswith(f"{SITE}{unsubscribe_path().rsplit('/', 2)[0]}/")
    assert subscriptions.read_unsubscribe_token(token).email == "sam@example.org"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Same for me." in text
    assert link in text
    assert "Same for me." in html
    assert f'href="{link}"' in html
    assert not Message.objects.exists()


def test_a_name_with_line_breaks_cannot_add_a_header(settings, inbox, conversation, moderator_client):
    use_queue(settings, inbox.port)
    reply = held_reply(conversation, author_name="Ann\r\nBcc: victim@example.org\r\nX-Evil: 1")

    approve(moderator_client, reply)
    call("deliver_mail", "--once")

    [received] = [m for m in inbox.messages if m["to"] == ["sam@example.org"]]
    assert received["subject"] == "[smpinfo] Ann Bcc: victim@example.org X-Evil: 1 replied on “Blue dots”"
    assert received["message"]["Bcc"] is None
    assert received["message"]["X-Evil"] is None
    assert all("victim@example.org" not in m["to"] for m in inbox.messages)


def test_links_come_from_site_url_never_the_host_header(article, settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    reader = Client(HTTP_HOST="evil.example")

    post_comment(reader, article, notify="on")

    [email] = emails_to("sam@example.org")
    assert "evil.example" not in email.body
    assert "evil.example" not in html_of(email)
    assert f"{SITE}/comments/confirm/" in email.body
    assert email.extra_headers["List-Unsubscribe"].startswith(f"<{SITE}/comments/unsubscribe/")


def test_a_restore_or_fixture_load_sends_nothing(conversation, tmp_path):
    reply = held_reply(conversation)
    Comment.objects.filter(pk=reply.pk).update(status=Comment.Status.APPROVED)
    Message.objects.all().delete()
    fixture = tmp_path / "comments.json"
    call_command("dumpdata", "comments.comment", output=str(fixture), verbosity=0)

    call_command("loaddata", str(fixture), verbosity=0)

    assert not Message.objects.exists()


# Personal data -----------------------------------------------------------------------------------


def test_the_export_includes_the_notification_address(client, article):
    post_comment(client, article, notify="on")

    data = export("Sam@example.org")

    assert data["notification_address"]["email"] == "sam@example.org"
    assert data["notification_address"]["confirmed_at"] is None
    assert data["notification_address"]["confirmation_sent_at"]
    assert data["notification_address"]["may_be_emailed"] is False


@pytest.mark.parametrize("delete", [False, True])
def test_erasing_a_commenter_leaves_nothing_of_the_address(client, conversation, moderator_client, delete):
    post_comment(client, conversation.article, body="Held, with the box", notify="on")  # desk is told
    approve(moderator_client, held_reply(conversation))  # Sam's reply notice, queued
    sams = [message for message in Message.objects.order_by("pk") if "sam@example.org" in message.email.to]
    sams[0].defer()  # as after a failed try
    MessageLog.objects.log(sams[-1], "1")  # as if sent

    call("erase_commenter", "SAM@example.org", *(["--delete"] if delete else []))

    assert not NotificationAddress.objects.filter(email="sam@example.org").exists()
    for model in (Message, MessageLog):
        for row in model.objects.all():
            email = row.email
            content = " ".join([*email.to, email.subject, email.body, *(a for a, _ in email.alternatives)])
            assert "sam@example.org" not in content.lower(), model
    assert "sam@example.org" not in call("dumpdata", "--exclude", "mailer").lower()
    assert len(emails_to("kim@example.org")) == 1  # others' email stays
