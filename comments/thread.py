"""The comments part of an article page, shown by the `{% comment_section %}` template tag.

A page of the thread costs the same whatever its number and the thread's length: the
totals are the counts stored with the article (comments.models keeps them: the comments
readers see, the top-level ones the pages count, the pinned answers), so there is no COUNT
and, for a thread without approved comments, no comment query at all. The page itself is
one query: it takes the ids of its top-level comments from the comment_top_level index (an
index-only walk from the nearer end of the thread: the first and the last pages read 50
entries, a middle one half the thread's entries at most, and no row), then those rows by
primary key, or, in a thread with replies, those rows and their replies by conversation
(the comment_conversation index). The first page of a thread with a pinned answer reads
it with one more query.
"""

from functools import lru_cache

from django.core.paginator import Page, Paginator
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from comments import held
from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE, CONVERSATION, Comment, thread_page_url
from comments.moderation import thread_is_open
from pagecache import page_shows

# The fields a comment shows (templates/comments/_thread.html)...
SHOWN_COMMENT_FIELDS = [
    "pk",
    "article_id",
    "author_name",
    "body",
    "created_at",
    "parent_id",
    "is_staff_answer",
]
# ...and, for replies, whether they are pinned and the author profile of staff answers.
REPLY_FIELDS = ["staff_author__name", "staff_author__slug", "staff_author__credentials"]
# ...and of the comment a pinned answer answers.
QUESTION_FIELDS = ["id", "author_name", "body"]


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
    held_at_end = place_held_comments(request, article, page)
    return {
        "held_comments": held_at_end,
        "comment_rows": thread_rows(page, comment_link_prefix(get_script_prefix(), get_urlconf())),
        "comments_open": is_open,
        "comment_page": page,
        # Each comment's permalink is this plus its anchor: one address made per page, not 50.
        "comment_page_url": thread_page_url(article, page.number),
        "comment_count": article.approved_comment_count,
        "comment_form": form if is_open else None,
    }


@lru_cache(maxsize=16)
def comment_link_prefix(script_prefix, urlconf):
    """The start of every comment's report and reply links ("/comments/"), made once for each
    path prefix and URL configuration (the arguments name them), as base.html's addresses
    are (articles.context_processors)."""
    return reverse("comments:report", args=[0]).removesuffix("0/report/")


def place_held_comments(request, article, page):
    """The reader's own held comments where they would be: a reply under its comment when
    that is on this page; the others, newest of the thread, at the end of its last page."""
    own_held = with_shown_dates(held.held_comments(request, article))
    shown = {comment.pk: comment for comment in page.object_list}
    at_end = []
    for comment in own_held:
        comment.is_held = True
        if comment.parent_id in shown:
            parent = shown[comment.parent_id]
            parent.held_replies = [*getattr(parent, "held_replies", []), comment]
        elif page.number == page.paginator.num_pages:
            at_end.append(comment)
    return at_end


def thread_rows(page, link_prefix):
    """The page's comments in the order shown, in one flat list: each top-level comment, then
    its replies and the reader's own held replies, so that the template needs neither a loop
    nor an include per comment. Each row says what comes before it (`opening`: the list of
    replies, before the first reply) and after it (`closing`: the end of its list item, and
    after the last reply the end of the list and of the comment's item).

    Each row also gets its `anchor` ("comment-12") and the start of its reply and report
    links (`links`, "/comments/12/"), made here once: in the template, a number goes
    through localization each time it is shown, and the links were a fifth of the thread's
    rendering."""
    rows = []
    for comment in page.object_list:
        replies = [*getattr(comment, "thread_replies", ()), *getattr(comment, "held_replies", ())]
        group = [comment, *replies]
        for row in group:
            row.anchor, row.links = f"comment-{row.pk}", f"{link_prefix}{row.pk}/"
            row.opening, row.closing = "", mark_safe("</li>")
            row.is_held = getattr(row, "is_held", False)
        if replies:
            replies[0].opening = format_html(
                '<ol class="comment-replies list-unstyled" aria-label="Replies to {}">', comment.author_name
            )
            comment.closing = ""
            replies[-1].closing = mark_safe("</li></ol></li>")
        rows.extend(group)
    return rows


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
    # A thread whose every shown comment is top-level has no reply to show, nor a pinned
    # answer (a shown reply too): no query for them.
    has_replies = article.approved_comment_count > paginator.count
    rows = fetch_page(article, number, paginator.count, has_replies) if paginator.count else []
    page = Page(group_replies(with_shown_dates(rows)), number, paginator)
    page.pinned_answers = pinned_answers(article) if article.pinned_answer_count and number == 1 else []
    return page


def fetch_page(article, number, total, with_replies):
    """The top-level approved comments of page `number` of a thread of `total`, oldest first,
    and `with_replies` their approved replies too (in the same list, by time)."""
    start = (number - 1) * COMMENTS_PER_PAGE
    size = min(COMMENTS_PER_PAGE, total - start)
    approved = article.comments.approved().top_level()
    from_end = total - start - size  # comments after this page
    if from_end < start:
        ids = approved.order_by("-created_at", "-pk").values("pk")[from_end : from_end + size]
    else:
        ids = approved.values("pk")[start : start + size]
    if not with_replies:
        # By primary key alone: a filter on the thread here could make the database walk the
        # whole thread to match the ids.
        return list(Comment.objects.filter(pk__in=ids).only(*SHOWN_COMMENT_FIELDS))
    # Each comment and its replies share a conversation (the comment_conversation index):
    # one query finds both.
    conversations = Comment.objects.alias(conversation=CONVERSATION).filter(
        conversation__in=ids, status=Comment.Status.APPROVED
    )
    return list(
        conversations.select_related("staff_author")
        .only(*SHOWN_COMMENT_FIELDS, *REPLY_FIELDS)
        .order_by("created_at", "pk")
    )


def group_replies(rows):
    """The top-level comments of `rows`, each with its replies among them (`thread_replies`,
    in the order of `rows`) and the author profile of staff answers (`staff_profile`)."""
    comments = [row for row in rows if row.parent_id is None]
    by_pk = {comment.pk: comment for comment in comments}
    for row in rows:
        row.thread_replies = []
        row.staff_profile = row.staff_author if "staff_author" in row._state.fields_cache else None
        if row.parent_id is not None:
            by_pk[row.parent_id].thread_replies.append(row)
    return comments


def pinned_answers(article):
    """The thread's pinned staff answers that readers see, each with the comment it answers
    (`question`), by the comment_pinned index."""
    answers = (
        Comment.objects.approved()
        .filter(article_id=article.pk, pinned=True, parent__status=Comment.Status.APPROVED)
        .select_related("staff_author", "parent")
        .only(*SHOWN_COMMENT_FIELDS, *REPLY_FIELDS, *(f"parent__{name}" for name in QUESTION_FIELDS))
        .order_by("created_at", "pk")
    )
    for answer in answers:
        answer.question, answer.staff_profile = answer.parent, answer.staff_author
    return list(answers)


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
