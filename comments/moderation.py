"""The comment policy, in one place.

Two questions are answered here and nowhere else:

- `thread_is_open(article)`: may readers comment on this article now?
- `moderate(...)`: what status does a new comment get, and why?

Views, templates, the admin and tests call these; none re-derives them.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.html import strip_tags

from comments.models import BlockedPhrase, Comment

MODERATION_MODES = ("all", "first-time", "none")

# Links as a spammer writes them: URLs, bare www. hosts and HTML anchors. Counted on
# the raw text, before any normalisation, so that an anchor counts even if its tag
# would be stripped for the blocklist.
LINK_PATTERN = re.compile(r"https?://|\bwww\.|<a\s", re.IGNORECASE)

# The reasons moderators see, written once: moderate() gives them, and the demo data
# generator labels its comments with them.
HONEYPOT_REASON = "The hidden anti-spam field was filled in (a bot)."
MODERATION_OFF_REASON = "Moderation is off: published at once."
KNOWN_EMAIL_REASON = "Approved automatically: this email has an approved comment."
FIRST_COMMENT_REASON = "First comment from this email."
HELD_REASON = "Every new comment is held for moderation."


def too_fast_reason(seconds_to_submit, minimum):
    return f"Sent {seconds_to_submit:.1f} s after the form was shown (minimum {minimum} s)."


def blocked_phrase_reason(phrase):
    return f"Contains the blocked phrase “{phrase}”."


def too_many_links_reason(links, maximum):
    return f"Contains {links} links (more than {maximum})."


@dataclass(frozen=True)
class Decision:
    """The status a new comment gets and the reason, shown to moderators."""

    status: str
    reason: str


# Thread state ---------------------------------------------------------------


def thread_closes_at(article):
    """The moment the article's thread closes by date, or None when no date closes it.

    The earlier of the article's own `comments_close_at` and, when
    COMMENTS_CLOSE_AFTER_DAYS is set, that many days after publication.
    """
    moments = []
    if article.comments_close_at is not None:
        moments.append(article.comments_close_at)
    days = settings.COMMENTS_CLOSE_AFTER_DAYS
    if days is not None and article.published_at is not None:
        moments.append(article.published_at + timedelta(days=days))
    return min(moments) if moments else None


def thread_is_open(article, now=None):
    """True when readers may comment on `article` now."""
    if not article.comments_open:
        return False
    closes_at = thread_closes_at(article)
    return closes_at is None or (now or timezone.now()) < closes_at


# Text normalisation for the blocklist ---------------------------------------


def normalize_text(text):
    """Fold text so that look-alike spellings of a phrase compare equal.

    Unicode NFKC (full-width and compatibility letters become plain ones), every
    invisible format character removed (zero-width spaces and joiners, bidi
    controls, soft hyphens), HTML tags stripped, case-folded, and runs of white
    space collapsed to one space.
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = strip_tags(text)
    return " ".join(text.casefold().split())


def phrase_pattern(phrase):
    """A regex matching the normalised phrase as whole words (so "cialis" spares "specialist")."""
    return re.compile(r"(?<!\w)" + re.escape(normalize_text(phrase)) + r"(?!\w)")


def find_blocked_phrase(texts, phrases):
    """The first phrase of `phrases` found in any of `texts`, or None."""
    haystacks = [normalize_text(text) for text in texts if text]
    for phrase in phrases:
        if not normalize_text(phrase):
            continue
        pattern = phrase_pattern(phrase)
        if any(pattern.search(haystack) for haystack in haystacks):
            return phrase
    return None


def count_links(text):
    return len(LINK_PATTERN.findall(text or ""))


# The decision ----------------------------------------------------------------


def moderation_mode():
    mode = settings.COMMENTS_MODERATION
    if mode not in MODERATION_MODES:
        raise ImproperlyConfigured(
            f"COMMENTS_MODERATION must be one of {', '.join(MODERATION_MODES)}; got {mode!r}."
        )
    return mode


def moderate(article, *, author_name, author_email, body, user_agent="", honeypot="", seconds_to_submit=None):
    """Decide the status of a new, valid comment, with the reason moderators will see.

    Checked in order, the first match wins:
    1. bot signals (honeypot filled, form sent back too fast) -> spam;
    2. a blocked phrase in the name, email, comment or browser -> spam;
    3. more links than COMMENTS_MAX_LINKS -> held, whatever the moderation mode;
    4. COMMENTS_MODERATION: `all` holds, `none` approves, `first-time` approves an
       email that already has an approved comment and holds the rest.
    """
    if honeypot:
        return Decision(Comment.Status.SPAM, HONEYPOT_REASON)
    minimum = settings.COMMENTS_MIN_SUBMIT_SECONDS
    if seconds_to_submit is not None and seconds_to_submit < minimum:
        return Decision(Comment.Status.SPAM, too_fast_reason(seconds_to_submit, minimum))

    phrases = BlockedPhrase.objects.values_list("phrase", flat=True)
    blocked = find_blocked_phrase([author_name, author_email, body, user_agent], phrases)
    if blocked is not None:
        return Decision(Comment.Status.SPAM, blocked_phrase_reason(blocked))

    links = count_links(body) + count_links(author_name)
    if links > settings.COMMENTS_MAX_LINKS:
        return Decision(Comment.Status.PENDING, too_many_links_reason(links, settings.COMMENTS_MAX_LINKS))

    mode = moderation_mode()
    if mode == "none":
        return Decision(Comment.Status.APPROVED, MODERATION_OFF_REASON)
    if mode == "first-time":
        if Comment.objects.approved().filter(author_email=author_email).exists():
            return Decision(Comment.Status.APPROVED, KNOWN_EMAIL_REASON)
        return Decision(Comment.Status.PENDING, FIRST_COMMENT_REASON)
    return Decision(Comment.Status.PENDING, HELD_REASON)
