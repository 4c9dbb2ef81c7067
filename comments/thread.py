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
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import MONTHS

from comments import held
from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE, Comment, thread_page_url
from comments.moderation import thread_is_open
from pagecache import page_shows

# The fields a comment shows (templates/comments/_thread.html).
SHOWN_COMMENT_FIELDS = [
    "pk", "article_id", "author_name", "body", "created_at", "parent_id", "is_staff_answer", "pinned",
    "staff_author__name", "staff_author__slug", "staff_author__credentials",
]  # fmt: skip
# And those of the comment a pinned answer answers.
PINNED_QUESTION_FIELDS = ["parent__id", "parent__author_name", "parent__body", "parent__status"]


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
        "held_comments": place_held_comments(request, article, page),
        "comments_open": is_open,
        "comment_page": page,
        # Each comment's permalink is this plus its anchor: one address made per page, not 50.
        "comment_page_url": thread_page_url(article, page.number),
        # Likewise each comment's report and reply links: this, its number and "/report/" or "/reply/".
        "comment_link_prefix": comment_link_prefix(get_script_prefix(), get_urlconf()),
        "comment_count": article.approved_comment_count,
        "comment_form": form if is_open else None,
    }


@lru_cache(maxsize=16)
def comment_link_prefix(script_prefix, urlconf):
    """The start of every report and reply link, made once for each path prefix and URL
    configuration (the arguments name them), as base.html's addresses are
    (articles.context_processors)."""
    return reverse("comments:report", args=[0]).removesuffix("0/report/")


def place_held_comments(request, article, page):
    """The reader's own held comments where they would be: a reply under its comment when
    that is on this page; the others, newest of the thread, at the end of its last page."""
    own_held = with_shown_dates(held.held_comments(request, article))
    shown = {comment.pk: comment for comment in page.object_list}
    at_end = []
    for comment in own_held:
        if comment.parent_id in shown:
            parent = shown[comment.parent_id]
            parent.held_replies = [*getattr(parent, "held_replies", []), comment]
        elif page.number == page.paginator.num_pages:
            at_end.append(comment)
    return at_end


def approved_comments_page(article, requested):
    """The page `requested` (a string, or None) of the article's thread: its top-level
    approved comments, each with its approved replies (`thread_replies`, oldest first)."""
    # Pages are fetched by fetch_page, never sliced from the paginator's list: it needs the count.
    paginator = Paginator((), COMMENTS_PER_PAGE)
    paginator.count = article.approved_top_level_count
    try:
        number = min(max(int(requested), 1), paginator.num_pages)
    except (TypeError, ValueError):
        number = 1
    rows = fetch_page(article, number, paginator.count) if paginator.count else []
    page = Page(with_shown_dates(rows), number, paginator)
    page.pinned_answers = []
    if rows:
        add_replies(article, page)
    return page


def fetch_page(article, number, total):
    """The top-level approved comments of page `number` of a thread of `total`, oldest first."""
    start = (number - 1) * COMMENTS_PER_PAGE
    size = min(COMMENTS_PER_PAGE, total - start)
    approved = article.comments.approved().top_level()
    from_end = total - start - size  # comments after this page
    if from_end < start:
        ids = approved.order_by("-created_at", "-pk").values("pk")[from_end : from_end + size]
    else:
        ids = approved.values("pk")[start : start + size]
    # By primary key alone: a filter on the thread here could make the database walk the
    # whole thread to match the ids.
    return list(shown_comments(Comment.objects.filter(pk__in=ids)))


def shown_comments(comments):
    """Only the fields the thread shows, with the author profile of staff answers."""
    return comments.select_related("staff_author").only(*SHOWN_COMMENT_FIELDS)


def add_replies(article, page):
    """Give each comment of the page its approved replies (`thread_replies`, oldest first),
    and the first page the thread's pinned answer with the comment it answers
    (`page.pinned_answers`): one more query, by the comment_replies and comment_pinned
    indexes, so that every page of every thread costs the same."""
    comments = {comment.pk: comment for comment in page.object_list}
    wanted = Q(parent_id__in=list(comments))
    if page.number == 1:
        wanted |= Q(article_id=article.pk, pinned=True)
    replies = Comment.objects.approved().filter(wanted).select_related("staff_author", "parent")
    replies = replies.only(*SHOWN_COMMENT_FIELDS, *PINNED_QUESTION_FIELDS).order_by("created_at", "pk")
    for comment in page.object_list:
        comment.thread_replies = []
    for reply in with_shown_dates(list(replies)):
        if reply.parent_id in comments:
            comments[reply.parent_id].thread_replies.append(reply)
        if reply.pinned and page.number == 1 and reply.parent.is_public:
            page.pinned_answers.append(reply)


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
