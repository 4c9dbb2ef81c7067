"""Moderation from the held-comment email: Approve, Reject and Spam links.

Each link is signed (only the site can make one), expires after
COMMENTS_MODERATION_LINK_DAYS, and works once: it names the state the comment was in when
it was made, and any moderation since (through it or the admin) makes it stale. A link
only opens a confirmation page; the change is made by that page's button, a POST, so a mail
scanner that follows every link changes nothing. The moderator logs in first if needed,
and must be allowed to moderate comments.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from articles.staff_email import site_link
from comments.models import Comment

SALT = "comments.email-moderation"
ACTIONS = {
    "approve": (Comment.Status.APPROVED, "Approve", "approved"),
    "reject": (Comment.Status.REJECTED, "Reject", "rejected"),
    "spam": (Comment.Status.SPAM, "Mark as spam", "marked as spam"),
}


class StaleLink(Exception):
    """The link was used, or the comment was moderated since it was made."""


def comment_state(comment):
    """A short digest of what moderation changes: a link made in one state works only in it."""
    moderated = comment.moderated_at.isoformat() if comment.moderated_at else ""
    return hashlib.sha256(f"{comment.status}|{moderated}".encode()).hexdigest()[:16]


def moderation_links(comment):
    """{"approve": absolute link, "reject": ..., "spam": ...} for the email about `comment`."""
    return {
        action: site_link(reverse("comments:moderate_from_email", args=[make_token(comment, action)]))
        for action in ACTIONS
    }


def make_token(comment, action):
    return signing.dumps(
        {"c": comment.pk, "a": action, "s": comment_state(comment)}, salt=SALT, compress=True
    )


@dataclass
class Request:
    comment: Comment
    action: str

    @property
    def status(self):
        return ACTIONS[self.action][0]

    @property
    def button(self):
        return ACTIONS[self.action][1]

    @property
    def done(self):
        return ACTIONS[self.action][2]


def read_token(token):
    """The Request a token asks for. Raises signing.SignatureExpired (too old),
    signing.BadSignature (not the site's, or altered), StaleLink (used, or moderated since)."""
    max_age = settings.COMMENTS_MODERATION_LINK_DAYS * 86400
    payload = signing.loads(token, salt=SALT, max_age=max_age)
    if not isinstance(payload, dict) or payload.get("a") not in ACTIONS:
        raise signing.BadSignature("Not a moderation link.")
    comment = Comment.objects.select_related("article").filter(pk=payload.get("c")).first()
    if comment is None or comment_state(comment) != payload.get("s"):
        raise StaleLink
    return Request(comment, payload["a"])


def carry_out(request, user):
    """Give the comment the status the link asks for, in the state the link was made for
    (a moderation between the check and now makes it stale); returns whether it changed."""
    comment = request.comment
    matching = Comment.objects.filter(pk=comment.pk, status=comment.status, moderated_at=comment.moderated_at)
    return matching.set_status(request.status, user) == 1
