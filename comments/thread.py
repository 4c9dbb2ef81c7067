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

import html
import re
from functools import lru_cache

from django.core.paginator import Page, Paginator
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from articles.dates import clock, day_month_year, iso_moment
from articles.models import Author
from comments import held
from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE, CONVERSATION, Comment, thread_page_url
from comments.moderation import thread_is_open
from pagecache import page_shows

# The fields a comment of the thread shows (ShownComment; the pinned answers too)...
SHOWN_COMMENT_FIELDS = ["pk", "author_name", "body", "created_at", "parent_id", "is_staff_answer"]
# ...the author profile of a staff answer...
STAFF_AUTHOR_FIELDS = ["staff_author__name", "staff_author__slug", "staff_author__credentials"]
# ...and of the comment a pinned answer answers.
QUESTION_FIELDS = ["id", "author_name", "body"]


class ShownComment:
    """A comment of the thread's page as thread_html shows it, made from the values the
    thread reads (SHOWN_COMMENT_FIELDS and STAFF_AUTHOR_FIELDS), not a model instance:
    making the 50 model instances and their authors took a tenth of an uncached page.
    `staff_profile` is the Author of a staff answer (for its profile link), else None."""

    def __init__(self, pk, author_name, body, created_at, parent_id, is_staff_answer, *staff_author):
        self.pk, self.author_name, self.body, self.created_at = pk, author_name, body, created_at
        self.parent_id, self.is_staff_answer = parent_id, is_staff_answer
        name, slug, credentials = staff_author or (None, None, None)
        self.staff_profile = Author(name=name, slug=slug, credentials=credentials) if slug else None


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
        "comment_list": thread_html(
            page,
            comment_link_prefix(get_script_prefix(), get_urlconf()),
            # Each comment's permalink is this plus its anchor: one address made per page, not 50.
            thread_page_url(article, page.number),
            is_open,
        ),
        "comments_open": is_open,
        "comment_page": page,
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


# What Django's `escape` and the `linebreaksbr` filter do (the same output, tested), without
# their lazy-text wrappers: at five calls a comment the wrappers were most of thread_html's
# time (0.5 ms of a 57-comment page, 0.14 ms without them). Every piece goes into one
# string that is marked safe once.
escape = html.escape
NEWLINES = re.compile(r"\r\n|\r")


def linebreaksbr(text):
    """`text` escaped, its line breaks (any of CRLF, CR, LF) as <br>."""
    return escape(NEWLINES.sub("\n", text)).replace("\n", "<br>")


def thread_html(page, link_prefix, page_url, comments_open):
    """The page's comments as the thread's list shows them, in the order shown: each
    top-level comment, then its replies and the reader's own held replies in a list of their
    own (`<ol class="comment-replies">`) inside the comment's item.

    Made here rather than by a template loop: at 50 comments and their replies, the loop's
    variable lookups and filters took about 8 of the 23 ms of CPU an uncached demo article
    page cost (bench/RESULTS.md), where this costs about two hundredths of a millisecond a
    comment. Every value a reader or commenter chose goes through `escape`, as the template
    would escape it. A reader's own held comment keeps its template (_held_comment.html): it
    is only ever on that reader's own, uncached page.
    """
    pieces, link_prefix, page_url = [], escape(link_prefix), escape(page_url)
    for comment in page.object_list:
        replies = [*getattr(comment, "thread_replies", ()), *getattr(comment, "held_replies", ())]
        pieces += ["<li>", comment_markup(comment, link_prefix, page_url, comments_open)]
        if replies:
            label = escape(comment.author_name)
            pieces.append(f'<ol class="comment-replies list-unstyled" aria-label="Replies to {label}">')
            for reply in replies:
                pieces += ["<li>", comment_markup(reply, link_prefix, page_url, comments_open), "</li>"]
            pieces.append("</ol>")
        pieces.append("</li>\n")
    return mark_safe("".join(pieces))


def comment_markup(comment, link_prefix, page_url, comments_open):
    """One comment's `<article>`: its author (linked to the profile of a staff answer's
    author), its date as a permalink into `page_url`, its text, and its reply (while the
    thread is open) and report links (`link_prefix` + its number: "/comments/12/reply/")."""
    if getattr(comment, "is_held", False):
        return render_to_string("comments/_held_comment.html", {"comment": comment})
    name = escape(comment.author_name)
    anchor, links = f"comment-{comment.pk}", f"{link_prefix}{comment.pk}/"
    profile = getattr(comment, "staff_profile", None)
    author = f'<a href="{escape(profile.get_absolute_url())}">{name}</a>' if profile else name
    staff = ""
    if comment.is_staff_answer:
        staff = '\n<span class="badge text-bg-primary comment-staff-badge">Staff</span>'
        if profile and profile.credentials:
            staff += f' <span class="comment-credentials small">{escape(profile.credentials)}</span>'
    reply = (
        f'<a class="comment-reply-link" href="{links}reply/" rel="nofollow">Reply'
        f'<span class="visually-hidden"> to {name}</span></a>\n'
        if comments_open
        else ""
    )
    report = (
        ""
        if comment.is_staff_answer
        else f'<a class="comment-report text-body-secondary" href="{links}report/" rel="nofollow">Report'
        f'<span class="visually-hidden"> the comment by {name}</span></a>'
    )
    return (
        f'<article class="comment{" comment-staff" if comment.is_staff_answer else ""}" id="{anchor}">'
        f'<header class="comment-meta"><strong class="comment-author">{author}</strong>{staff}\n'
        f'<a class="comment-permalink text-body-secondary small" href="{page_url}#{anchor}">'
        f'<time datetime="{comment.shown_at_iso}">{comment.shown_at}</time></a></header>\n'
        f'<div class="comment-body">{linebreaksbr(comment.body)}</div>\n'
        f'<div class="comment-actions small">{reply}{report}</div></article>'
    )


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
        rows = Comment.objects.filter(pk__in=ids).order_by("created_at", "pk")
        return [ShownComment(*values) for values in rows.values_list(*SHOWN_COMMENT_FIELDS)]
    # Each comment and its replies share a conversation (the comment_conversation index):
    # one query finds both.
    conversations = Comment.objects.alias(conversation=CONVERSATION).filter(
        conversation__in=ids, status=Comment.Status.APPROVED
    )
    rows = conversations.order_by("created_at", "pk").values_list(*SHOWN_COMMENT_FIELDS, *STAFF_AUTHOR_FIELDS)
    return [ShownComment(*values) for values in rows]


def group_replies(rows):
    """The top-level comments of `rows`, each with its replies among them (`thread_replies`,
    in the order of `rows`)."""
    comments = [row for row in rows if row.parent_id is None]
    by_pk = {comment.pk: comment for comment in comments}
    for row in rows:
        row.thread_replies = []
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
        .only(*SHOWN_COMMENT_FIELDS, *STAFF_AUTHOR_FIELDS, *(f"parent__{name}" for name in QUESTION_FIELDS))
        .order_by("created_at", "pk")
    )
    for answer in answers:
        answer.question, answer.staff_profile = answer.parent, answer.staff_author
    return list(answers)


def with_shown_dates(comments):
    """Give each comment its date as the thread shows it, in the current time zone:
    `shown_at` ("2 December 2026, 09:16", the date filter's "j F Y, H:i") and
    `shown_at_iso` (the <time> element's datetime, "Y-m-d\\TH:i:sO"), made from the parts
    of the date (articles.dates) rather than by the filter, which took 5 of the 7 ms that
    rendering 50 comments cost.
    """
    zone = timezone.get_current_timezone()
    for comment in comments:
        local = comment.created_at.astimezone(zone)
        comment.shown_at = f"{day_month_year(local)}, {clock(local)}"
        comment.shown_at_iso = iso_moment(local)
    return comments
