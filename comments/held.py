"""A reader's own comments awaiting moderation, shown to them in place, to nobody else.

When a comment is held, its sender's browser gets a signed cookie naming it; their next
views of the article show it, marked "awaiting moderation". The cookie is one of the
page cache's personal cookies (PAGE_CACHE_PERSONAL_COOKIES): their pages are rendered for
them and never stored, and everyone else's stay shared. Spam is shown to its sender the
same way, so that a bot learns nothing from the answer.
"""

from django.core import signing

from comments.models import Comment

COOKIE = "smpinfo_held"
SALT = "comments.held"
KEPT_DAYS = 30
KEPT_COMMENTS = 20
SHOWN_AS_HELD = (Comment.Status.PENDING, Comment.Status.SPAM)


def held_ids(request):
    """The comment numbers the reader's cookie names (none when absent or not the site's)."""
    try:
        value = request.get_signed_cookie(COOKIE, salt=SALT, max_age=KEPT_DAYS * 86400)
    except (KeyError, signing.BadSignature):
        return []
    return [int(part) for part in value.split(",") if part.isdigit()][-KEPT_COMMENTS:]


def remember(request, response, comment):
    """Name `comment` in the reader's cookie, with the others it names (the latest 20)."""
    ids = [*held_ids(request), comment.pk][-KEPT_COMMENTS:]
    response.set_signed_cookie(
        COOKIE, ",".join(map(str, ids)), salt=SALT, max_age=KEPT_DAYS * 86400, httponly=True, samesite="Lax",
        secure=request.is_secure(),
    )  # fmt: skip


def held_comments(request, article):
    """The reader's comments on `article` still awaiting moderation, oldest first (a query
    only when their cookie names any)."""
    ids = held_ids(request)
    if not ids:
        return []
    return list(
        Comment.objects.filter(pk__in=ids, article=article, status__in=SHOWN_AS_HELD)
        .order_by("created_at", "pk")
        .only("pk", "article_id", "author_name", "body", "created_at", "parent_id")
    )
