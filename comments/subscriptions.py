"""Email to readers about their comments: the `notify` box of the comment form.

A commenter who ticks it is first sent one email, to confirm their address (double opt-in);
nothing else is sent to an address until its owner has confirmed it through that email's
signed link, and it then stays confirmed for their later comments. A confirmed address gets:

- the publication notice, when a comment of theirs that ticked the box is published;
- the reply notice, when a reply in their conversation is published (a reader's or a staff
  answer): to the top-level comment's author and the earlier repliers who ticked the box,
  never to the replier's own address, one email per address.

Every email is a row of django-mailer's queue written in the transaction of the change that
causes it (queue_reader_email), so a comment rolled back sends nothing. The hooks: a comment
stored with the box ticked (post_save, for the confirmation) and comments_published, which
comments.models sends from every way a comment becomes approved. Both are connected in
comments.apps.

Every email to a reader carries a one-click unsubscribe (a signed link in the text, and the
List-Unsubscribe and List-Unsubscribe-Post headers of RFC 8058). Tokens name the address by its
row and a keyed digest of the email, never the email itself: links end up in server logs.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from mailer.models import Message

from articles.staff_email import one_line, site_link
from comments.models import CONVERSATION, UPDATE_BATCH_SIZE, Comment, NotificationAddress, normalize_email

logger = logging.getLogger(__name__)

CONFIRM_SALT = "comments.notifications.confirm"
UNSUBSCRIBE_SALT = "comments.notifications.unsubscribe"
# A second confirmation to an address not yet confirmed is queued no sooner than this after
# the first (unless its owner unsubscribed since): a commenter posting five comments, or
# someone typing another's address, sends it one email a day at most.
CONFIRMATION_RESEND_AFTER = timedelta(days=1)
EXCERPT_LENGTH = 500


class AddressGone(Exception):
    """The link is the site's, but its address is no longer stored (its owner's data was erased)."""


# Tokens ---------------------------------------------------------------------------------------


def address_digest(email):
    return salted_hmac("comments.notifications.address", normalize_email(email)).hexdigest()[:24]


def make_token(address, salt):
    return signing.dumps({"a": address.pk, "d": address_digest(address.email)}, salt=salt)


def read_token(token, salt, max_age=None):
    """The NotificationAddress a token names. Raises signing.SignatureExpired (too old),
    signing.BadSignature (not the site's, or altered), AddressGone (erased since)."""
    payload = signing.loads(token, salt=salt, max_age=max_age)
    if not isinstance(payload, dict) or not isinstance(payload.get("d"), str):
        raise signing.BadSignature("Not a notification link.")
    address = NotificationAddress.objects.filter(pk=payload.get("a")).first()
    if address is None or not constant_time_compare(address_digest(address.email), payload["d"]):
        raise AddressGone
    return address


def confirmation_link_seconds():
    return settings.COMMENTS_CONFIRMATION_LINK_DAYS * 86400


def read_confirmation_token(token):
    return read_token(token, CONFIRM_SALT, max_age=confirmation_link_seconds())


def read_unsubscribe_token(token):
    """Unsubscribe links do not expire: an email read a year later still stops the next one."""
    return read_token(token, UNSUBSCRIBE_SALT)


def confirmation_link(address):
    return site_link(reverse("comments:confirm_notifications", args=[make_token(address, CONFIRM_SALT)]))


def unsubscribe_link(address):
    return site_link(reverse("comments:unsubscribe", args=[make_token(address, UNSUBSCRIBE_SALT)]))


def masked(email):
    """The address as a page shows it to whoever holds the link: "s***@example.org"."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


# The owner's choices ----------------------------------------------------------------------------


def confirm(address):
    """Confirm the address (again, after an unsubscription); returns False when it was
    confirmed and subscribed already (the link used twice: nothing changes)."""
    with transaction.atomic():
        address = NotificationAddress.objects.select_for_update().get(pk=address.pk)
        if address.may_be_emailed:
            return False
        address.confirmed_at = timezone.now()
        address.unsubscribed_at = None
        address.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return True


def unsubscribe(address):
    """Send nothing more to the address: it is marked unsubscribed, the box is unticked on
    its comments, and its reader emails still waiting in the queue are dropped. Returns False
    when it was unsubscribed already."""
    with transaction.atomic():
        address = NotificationAddress.objects.select_for_update().get(pk=address.pk)
        Comment.objects.filter(author_email=address.email, notify=True).update(notify=False)
        drop_queued_reader_emails(address.email)
        if address.unsubscribed_at is not None:
            return False
        address.unsubscribed_at = timezone.now()
        address.save(update_fields=["unsubscribed_at"])
    return True


def drop_queued_reader_emails(email):
    """Delete the reader emails to `email` not yet sent (the queue is short: read in full)."""
    email = normalize_email(email)
    queued = ((row.pk, row.email) for row in Message.objects.only("pk", "message_data"))
    ours = [
        pk
        for pk, message in queued
        if message is not None
        and "List-Unsubscribe" in message.extra_headers
        and email in map(normalize_email, message.to)
    ]
    Message.objects.filter(pk__in=ours).delete()


# The emails -------------------------------------------------------------------------------------


def queue_reader_email(subject, template, context, address):
    """Queue one email to a reader's `address` (a NotificationAddress): the text and HTML
    parts of `template` (.txt and .html), with its unsubscribe link, in the caller's
    transaction, as articles.staff_email.queue_email queues staff email: in a savepoint of its
    own, with a Message-ID fixed now (a message sent again is shown once)."""
    unsubscribe_url = unsubscribe_link(address)
    context = {**context, "unsubscribe_url": unsubscribe_url, "site_url": settings.SITE_URL}
    headers = {
        "Message-ID": make_msgid(domain=DNS_NAME),
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = EmailMultiAlternatives(
        one_line(subject),
        render_to_string(f"comments/email/{template}.txt", context),
        None,
        [address.email],
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"comments/email/{template}.html", context), "text/html")
    with transaction.atomic():
        message.send()


def ask_to_confirm(comment):
    """Queue the confirmation email for the address of `comment`, unless it may be emailed
    already, or was sent one in the last CONFIRMATION_RESEND_AFTER (and has not unsubscribed
    since: opting in again after unsubscribing asks again at once)."""
    email = normalize_email(comment.author_email)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                NotificationAddress.objects.get_or_create(email=email)
        except IntegrityError:  # created meanwhile by another comment: it is there now
            pass
        address = NotificationAddress.objects.select_for_update().get(email=email)
        if address.may_be_emailed:
            return
        last_sent, unsubscribed = address.confirmation_sent_at, address.unsubscribed_at
        if (
            last_sent
            and last_sent > now - CONFIRMATION_RESEND_AFTER
            and not (unsubscribed and unsubscribed > last_sent)
        ):
            return
        context = {
            "comment": comment,
            "article": comment.article,
            "confirm_url": confirmation_link(address),
            "link_days": settings.COMMENTS_CONFIRMATION_LINK_DAYS,
        }
        subject = f"[smpinfo] Confirm your email for your comment on “{comment.article.title}”"
        queue_reader_email(subject, "confirm_address", context, address)
        address.confirmation_sent_at = now
        address.save(update_fields=["confirmation_sent_at"])


def publication_notice(comment, address):
    context = {"comment": comment, "article": comment.article, "link": site_link(comment.get_absolute_url())}
    subject = f"[smpinfo] Your comment on “{comment.article.title}” is published"
    queue_reader_email(subject, "comment_published", context, address)


def reply_notice(replies, address):
    """One email to `address` about `replies` (published in one conversation)."""
    article = replies[0].article
    shown = [{"reply": reply, "link": site_link(reply.get_absolute_url())} for reply in replies]
    if len(replies) == 1:
        subject = f"[smpinfo] {replies[0].author_name} replied on “{article.title}”"
    else:
        subject = f"[smpinfo] {len(replies)} new replies on “{article.title}”"
    context = {"replies": shown, "article": article, "question": replies[0].parent, "excerpt": EXCERPT_LENGTH}
    queue_reader_email(subject, "new_replies", context, address)


def emailable(emails):
    """{email: NotificationAddress} of those of `emails` that may be emailed."""
    confirmed = NotificationAddress.objects.filter(
        email__in=set(emails), confirmed_at__isnull=False, unsubscribed_at__isnull=True
    )
    return {address.email: address for address in confirmed}


def safely(what, pk, send, *args):
    """Queue an email; a failure is logged, never raised: a moderator's approval or a reader's
    comment is not lost for an email (its savepoint is rolled back, the rest stays)."""
    try:
        with transaction.atomic():
            send(*args)
    except Exception:
        logger.exception("Could not queue the %s for comment %s", what, pk)


# Receivers --------------------------------------------------------------------------------------


def comment_stored(sender, instance, created, raw=False, **kwargs):
    """post_save receiver: a new comment with the box ticked asks its address to confirm. Not
    for spam (a bot's comment does not make the site email anyone), nor for loaded rows."""
    wanted = created and not raw and instance.notify and instance.author_email
    if wanted and instance.status != Comment.Status.SPAM:
        safely("confirmation", instance.pk, ask_to_confirm, instance)


def comments_were_published(sender, pks, **kwargs):
    """comments_published receiver: the publication notices for these comments, and the reply
    notices of the conversations they are replies in."""
    for start in range(0, len(pks), UPDATE_BATCH_SIZE):
        published = list(
            Comment.objects.shown()
            .filter(pk__in=pks[start : start + UPDATE_BATCH_SIZE])
            .select_related("article", "parent")
            .order_by("created_at", "pk")
        )
        send_publication_notices(published)
        send_reply_notices([comment for comment in published if comment.parent_id])


def send_publication_notices(published):
    opted_in = [comment for comment in published if comment.notify and comment.author_email]
    addresses = emailable(comment.author_email for comment in opted_in)
    asked = NotificationAddress.objects.filter(email__in={comment.author_email for comment in opted_in})
    asked = set(asked.values_list("email", flat=True))
    for comment in opted_in:
        if address := addresses.get(comment.author_email):
            safely("publication notice", comment.pk, publication_notice, comment, address)
        elif comment.author_email not in asked:
            # Never asked: held as spam when it arrived, and rescued by a moderator since.
            safely("confirmation", comment.pk, ask_to_confirm, comment)
            asked.add(comment.author_email)


def send_reply_notices(replies):
    """For each conversation, one email per address about its new replies: to the approved
    comments that ticked the box, the top-level one and the replies before each new reply."""
    by_conversation = {}
    for reply in replies:
        by_conversation.setdefault(reply.parent_id, []).append(reply)
    for top_pk, new_replies in by_conversation.items():
        participants = list(
            Comment.objects.approved()
            .alias(conversation=CONVERSATION)
            .filter(conversation=top_pk, notify=True)
            .exclude(author_email="")
            .values_list("pk", "author_email", "created_at")
        )
        about = {}  # email: the new replies it hears of
        for reply in new_replies:
            for pk, email, created_at in participants:
                earlier = pk == top_pk or (created_at, pk) < (reply.created_at, reply.pk)
                if earlier and email != reply.author_email and reply not in about.get(email, []):
                    about.setdefault(email, []).append(reply)
        addresses = emailable(about)
        for email, its_replies in about.items():
            if email in addresses:
                safely("reply notice", its_replies[0].pk, reply_notice, its_replies, addresses[email])
