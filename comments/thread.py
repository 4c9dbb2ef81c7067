"""The comments part of an article page, for the article view to include."""

from django.core.paginator import Paginator

from comments.forms import CommentForm
from comments.models import COMMENTS_PER_PAGE
from comments.moderation import thread_is_open


def comment_section(request, article, form=None):
    """Context for templates/comments/_thread.html: approved comments, and a form while open.

    Approved comments come oldest first, `COMMENTS_PER_PAGE` to a page (`?page=N`;
    an out-of-range page shows the last one). Two queries, whatever the count.
    """
    is_open = thread_is_open(article)
    approved = article.comments.approved().only("pk", "article_id", "author_name", "body", "created_at")
    page = Paginator(approved, COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    if form is None and is_open:
        form = CommentForm(article)
    return {
        "comments_open": is_open,
        "comment_page": page,
        "comment_count": page.paginator.count,
        "comment_form": form if is_open else None,
    }
