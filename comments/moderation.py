"""The comment policy, in one place.

Two questions are answered here and nowhere else:

- `thread_is_open(article)`: may readers comment on this article now?
- `moderate(...)`: what status does a new comment get, and why?

Views, templates, the admin and tests call these; none re-derives them.
"""

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import disarm
import nh3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from comments.models import BlockedPhrase, Comment, normalize_email

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

# Default_Ignorable_Code_Point, from the Unicode Character Database's DerivedCoreProperties.txt
# (Unicode 16.0; the same list since 14.0): characters a renderer shows as nothing, such as
# U+034F COMBINING GRAPHEME JOINER, the variation selectors (U+FE0F), U+3164 HANGUL FILLER,
# zero-width spaces and joiners, bidi controls, soft hyphens and tags. Python's unicodedata
# has no such property. With them, U+2800 BRAILLE PATTERN BLANK, which is not ignorable but
# is drawn as an empty space.
HIDDEN_CHARACTER_RANGES = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    (0x2800, 0x2800),
]  # fmt: skip
HIDDEN_CHARACTERS = re.compile(
    "[" + "".join(f"\\U{first:08X}-\\U{last:08X}" for first, last in HIDDEN_CHARACTER_RANGES) + "]"
)
# Removed after decomposition: marks drawn on another letter (a combining acute accent) or
# around it, and every other invisible format character (Cf). Spacing marks, which are
# letters of their own in many scripts, stay.
DROPPED_CATEGORIES = {"Mn", "Me", "Cf"}


def fold(text, hidden=""):
    """One reading of `text`, folded so that look-alike spellings of a phrase compare equal.

    In this order: hidden characters replaced by `hidden` (removed, or read as a space);
    compatibility forms decomposed (NFKD: full-width and mathematical letters, ligatures);
    combining marks and other format characters removed (viágra is viagra); composed again
    (NFC) and case folded; each letter that looks like one of the Latin alphabet replaced by
    it, from Unicode's confusables table (UTS #39: Cyrillic U+0430 is Latin a), and case folded
    again since some of those are capitals; runs of white space made one space.
    """
    text = HIDDEN_CHARACTERS.sub(hidden, text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if unicodedata.category(char) not in DROPPED_CATEGORIES)
    text = unicodedata.normalize("NFC", text).casefold()
    text = disarm.normalize_confusables(text, digit_policy="tr39").casefold()
    return " ".join(text.split())


def html_text(text):
    """The text a browser would show if `text` were HTML: tags removed (their content kept,
    even a script's), character references decoded. nh3 parses like a browser and cannot
    fail on any input, where Django's strip_tags gives up on some (a body of "<a" * 2500)."""
    return html.unescape(nh3.clean(text, tags=set(), clean_content_tags=set()))


def readings(text):
    """Every way the blocklist reads `text`, each folded (a set of one to four strings).

    Comments are shown as plain text, so the text is read as written (HTML character
    references decoded: &#118;iagra is viagra) and, for spam that hides a word inside
    markup, as HTML; and a hidden character is read as nothing (a word split by one) and as
    a space (words parted by a blank that is not white space).
    """
    texts = {html.unescape(text), html_text(text)}
    return {fold(reading, hidden) for reading in texts for hidden in ("", " ")}


def normalize_text(text):
    """`text` as HTML, its hidden characters removed, folded: the blocklist's main reading."""
    return fold(html_text(text or ""))


def phrase_pattern(phrase):
    """A regex matching the folded phrase as whole words (so "cialis" spares "specialist"),
    or None for a phrase that folds to nothing."""
    folded = fold(html.unescape(phrase))
    return re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)") if folded else None


def find_blocked_phrase(texts, phrases):
    """The first phrase of `phrases` found in any reading of any of `texts`, or None."""
    haystacks = set().union(*(readings(text) for text in texts if text))
    for phrase in phrases:
        pattern = phrase_pattern(phrase)
        if pattern is not None and any(pattern.search(haystack) for haystack in haystacks):
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
       email (in any letter case) that already has an approved comment and holds the rest.
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
        # Stored emails are in lower case (Comment.save, migration 0006), so this is the
        # index's exact match, yet case-insensitive. Nobody confirmed the address: see README.
        if Comment.objects.approved().filter(author_email=normalize_email(author_email)).exists():
            return Decision(Comment.Status.APPROVED, KNOWN_EMAIL_REASON)
        return Decision(Comment.Status.PENDING, FIRST_COMMENT_REASON)
    return Decision(Comment.Status.PENDING, HELD_REASON)
