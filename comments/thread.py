"""The comments part of an article page, shown by the `{% comment_section %}` template tag."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window

from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE
from comments.moderation import thread_is_open
from pagecache import page_shows

MAX_PAGE_NUMBER = 10**9  # beyond any thread; keeps the OFFSET a 64-bit integer


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
    return {
        "comments_open": is_open,
        "comment_page": page,
        "comment_count": page.paginator.count,
        "comment_form": form if is_open else None,
    }


def approved_comments_page(article, requested):
    """One page of approved comments and the total, in a single query.

    Each row carries the thread's total (a window count), so the page needs no
    separate COUNT; only a page past the end costs one more query to find the last.
    """
    approved = article.comments.approved().only("pk", "article_id", "author_name", "body", "created_at")
    try:
        number = min(max(int(requested), 1), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    paginator = Paginator(approved, COMMENTS_PER_PAGE)
    rows = fetch_page(approved, number)
    if rows:
        paginator.count = rows[0].thread_total
    else:
        paginator.count = approved.count() if number > 1 else 0
        if paginator.count:
            number = paginator.num_pages
            rows = fetch_page(approved, number)
        else:
            number = 1
    return Page(rows, number, paginator)


def fetch_page(approved, number):
    start = (number - 1) * COMMENTS_PER_PAGE
    return list(approved.annotate(thread_total=Window(Count("pk")))[start : start + COMMENTS_PER_PAGE])
