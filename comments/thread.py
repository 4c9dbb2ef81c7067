"""The comments part of an article page, shown by the `{% comment_section %}` template tag.

A page of the thread costs the same whatever its number and the thread's length: the total
is the count stored with the article (comments.models keeps it), so there is no COUNT and,
for a thread without approved comments, no comment query at all; the page itself is one
query that takes the ids of its comments from the comment_thread index (an index-only walk
from the nearer end of the thread: the first and the last pages read 50 entries, a middle
one half the thread's entries at most, and no row) and then those rows by primary key.
"""

from functools import lru_cache

from django.core.paginator import Page, Paginator
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import MONTHS

from comments import held
from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE, Comment, thread_page_url
from comments.moderation import thread_is_open
from pagecache import page_shows

# The fields a comment shows (templates/comments/_thread.html).
SHOWN_COMMENT_FIELDS = ["pk", "article_id", "author_name", "body", "created_at"]


def thread_context(request, article, form=None):
    """Context for templates/comments/_thread.html: approved comments, and a form while open.

    Approved comments come oldest first, `COMMENTS_PER_PAGE` to a page (`?page=N`;
    a page past the end shows the last one, anything else not a number the first).
    """
    is_open = thread_is_open(article)
    if form is None and is_open:
        form = CommentForm(article, request=request)
    page = approved_comments_page(article, request.GET.get("page"))
    page_shows(request, page=page.number)
    # The reader's own held comments, newest of the thread: shown where they would be, on the last page.
    own_held = held.held_comments(request, article) if page.number == page.paginator.num_pages else []
    return {
        "held_comments": with_shown_dates(own_held),
        "comments_open": is_open,
        "comment_page": page,
        # Each comment's permalink is this plus its anchor: one address made per page, not 50.
        "comment_page_url": thread_page_url(article, page.number),
        # Likewise each comment's report link: this, its number and "/report/".
        "comment_report_prefix": report_prefix(get_script_prefix(), get_urlconf()),
        "comment_count": page.paginator.count,
        "comment_form": form if is_open else None,
    }


@lru_cache(maxsize=16)
def report_prefix(script_prefix, urlconf):
    """The start of every report link, made once for each path prefix and URL configuration
    (the arguments name them), as base.html's addresses are (articles.context_processors)."""
    return reverse("comments:report", args=[0]).removesuffix("0/report/")


def approved_comments_page(article, requested):
    """The page `requested` (a string, or None) of the article's approved comments."""
    # Pages are fetched by fetch_page, never sliced from the paginator's list: it needs the count.
    paginator = Paginator((), COMMENTS_PER_PAGE)
    paginator.count = article.approved_comment_count
    try:
        number = min(max(int(requested), 1), paginator.num_pages)
    except (TypeError, ValueError):
        number = 1
    rows = fetch_page(article, number, paginator.count) if paginator.count else []
    return Page(with_shown_dates(rows), number, paginator)


def fetch_page(article, number, total):
    """The approved comments of page `number` of a thread of `total`, oldest first."""
    start = (number - 1) * COMMENTS_PER_PAGE
    size = min(COMMENTS_PER_PAGE, total - start)
    approved = article.comments.approved()
    from_end = total - start - size  # comments after this page
    if from_end < start:
        ids = approved.order_by("-created_at", "-pk").values("pk")[from_end : from_end + size]
    else:
        ids = approved.values("pk")[start : start + size]
    # By primary key alone: a filter on the thread here could make the database walk the
    # whole thread to match the ids.
    return list(Comment.objects.filter(pk__in=ids).only(*SHOWN_COMMENT_FIELDS))


def with_shown_dates(comments):
    """Give each comment its date as the thread shows it, in the current time zone:
    `shown_at` ("2 December 2026, 09:16", the date filter's "j F Y, H:i") and
    `shown_at_iso` (the <time> element's datetime, "Y-m-d\\TH:i:sO").

    Formatted here rather than by the template's date filter, which took 5 of the 7 ms
    that rendering 50 comments cost; the site's other dates keep the filter.
    """
    for comment in comments:
        local = timezone.localtime(comment.created_at)
        comment.shown_at = f"{local.day} {MONTHS[local.month]} {local:%Y, %H:%M}"
        comment.shown_at_iso = f"{local:%Y-%m-%dT%H:%M:%S%z}"
    return comments
