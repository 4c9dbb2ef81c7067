"""The comment POST endpoint, and readers' reports of comments."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from articles.models import Article
from articles.staff_email import site_link
from articles.views import render_article
from comments import email_moderation, held
from comments.answers import StaffAnswerForm
from comments.forms import CommentForm, ReportForm
from comments.models import Comment
from comments.moderation import moderate, thread_is_open
from comments.notifications import notify_moderators
from comments.ratelimit import (
    comment_rate_exceeded,
    reader_address,
    report_rate_exceeded,
    retry_after_seconds,
)
from comments.reports import Outcome, report_comment

logger = logging.getLogger(__name__)

NOT_CHECKED_MESSAGE = (
    "Your comment could not be checked. Please change it a little and send it again, "
    "or tell us if it keeps happening."
)


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@require_POST
def post_comment(request, slug):
    """Store a reader's comment with the status the moderation policy gives it.

    Refusals, in order: unknown or unpublished article 404, closed thread 403,
    rate limit 429, invalid form or duplicate 400 (the form shown again with
    everything the reader typed and a new token). CSRF is checked before this view
    runs (403).
    """
    article = get_object_or_404(Article.objects.published().for_page(), slug=slug)
    if not thread_is_open(article):
        return render(request, "comments/closed.html", {"article": article}, status=403)
    if comment_rate_exceeded(request):
        response = render(request, "comments/rate_limited.html", {"article": article}, status=429)
        response["Retry-After"] = str(retry_after_seconds())
        return response

    form = CommentForm(article, request.POST, request=request)
    if not form.is_valid():
        return render_article_with_form(request, article, form)

    data = form.cleaned_data
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    try:
        decision = moderate(
            article,
            author_name=data["author_name"],
            author_email=data["author_email"],
            body=data["body"],
            user_agent=user_agent,
            honeypot=data["honeypot"],
            seconds_to_submit=form.seconds_to_submit,
        )
    except DatabaseError:
        raise  # the database's outage page says the comment was not saved, with its text
    except Exception:
        # The policy reads any text the form accepts; should it ever fail, the reader keeps
        # their text and a way forward instead of an error page.
        logger.exception("Could not moderate a comment on article %s", article.pk)
        form.add_error(None, NOT_CHECKED_MESSAGE)
        return render_article_with_form(request, article, form)
    comment = form.save(commit=False)
    comment.article = article
    comment.status = decision.status
    comment.status_reason = decision.reason
    comment.ip_address = reader_address(request)
    comment.user_agent = user_agent
    try:
        # A savepoint: the rest of the request's transaction (if any) outlives a duplicate.
        # The moderators' email is queued in the comment's own transaction: both or neither.
        with transaction.atomic():
            comment.save()
            if comment.status == Comment.Status.PENDING:
                # From SITE_URL, not the Host header a commenter chose.
                admin_url = site_link(reverse("admin:comments_comment_change", args=[comment.pk]))
                notify_moderators(comment, admin_url)
    except IntegrityError:
        duplicate = Comment.objects.filter(article=article, fingerprint=comment.fingerprint)
        if comment.fingerprint is None or not duplicate.exists():
            raise
        form.add_duplicate_error()
        return render_article_with_form(request, article, form)

    if comment.status == Comment.Status.APPROVED:
        messages.success(request, "Thank you! Your comment is published.")
        return HttpResponseSeeOther(comment.get_absolute_url())
    # Spam gets the same answer as a held comment: a bot learns nothing from it.
    messages.success(
        request, "Thank you! Your comment is awaiting moderation and will appear once it is approved."
    )
    response = HttpResponseSeeOther(f"{article.get_absolute_url()}#comments")
    held.remember(request, response, comment)  # shown to this reader in place until then
    return response


@never_cache
@require_safe
def reply(request, pk):
    """The reply form for one comment readers see, for browsers without JavaScript too: it
    names the comment in the form (a reply to a reply answers its top-level comment). Staff
    who may answer get the staff answer form as well. Any other comment is a 404."""
    comment = get_object_or_404(
        Comment.objects.on_published_articles().select_related("article"),
        pk=pk,
    )
    article = comment.article
    is_open = thread_is_open(article)
    form = None
    if is_open:
        form = CommentForm(article, request=request, initial={"parent": comment.parent_id or comment.pk})
    staff_form = StaffAnswerForm() if request.user.has_perm("comments.answer_comment") else None
    context = {"comment": comment, "article": article, "comment_form": form, "staff_answer_form": staff_form}
    return render(request, "comments/reply.html", context, status=200 if is_open or staff_form else 403)


def render_article_with_form(request, article, form):
    """The article page again, status 400, with the form's errors, the reader's text and a
    new form token."""
    form.refresh_token()
    return render_article(request, article, status=400, comment_form=form)


REPORT_MESSAGES = {
    Outcome.RECORDED: "Thank you for your report: a moderator will look at the comment.",
    Outcome.ALREADY_REPORTED: "You have already reported this comment: a moderator will look at it.",
    Outcome.HELD: "Thank you for your report. The comment is hidden until a moderator has looked at it.",
}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def report(request, pk):
    """Report a comment readers see on a published article: GET shows the reasons (and writes
    nothing), POST records one (rate-limited per address, 429) and sends the reader back
    to the thread. Any other comment is a 404: a report link reveals nothing."""
    comment = get_object_or_404(
        Comment.objects.on_published_articles().select_related("article"),
        pk=pk,
    )
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return render(request, "comments/report.html", {"comment": comment, "form": form})
    if report_rate_exceeded(request):
        response = render(request, "comments/report_rate_limited.html", {"comment": comment}, status=429)
        rate, setting = settings.COMMENTS_REPORT_RATE_LIMIT, "COMMENTS_REPORT_RATE_LIMIT"
        response["Retry-After"] = str(retry_after_seconds(rate, setting))
        return response
    if not form.is_valid():
        return render(request, "comments/report.html", {"comment": comment, "form": form}, status=400)
    outcome = report_comment(comment, form.cleaned_data["reason"], reader_address(request))
    messages.success(request, REPORT_MESSAGES[outcome])
    if outcome is Outcome.HELD:
        return HttpResponseSeeOther(f"{comment.article.get_absolute_url()}#comments")
    return HttpResponseSeeOther(comment.get_absolute_url())


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def moderate_from_email(request, token):
    """A link from the held-comment email (comments.email_moderation): GET confirms what it
    will do, and writes nothing; the page's button POSTs it. Logged-out moderators log in
    first; a link that is not the site's, expired or already used says so."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.has_perm("comments.change_comment"):
        raise PermissionDenied
    try:
        asked = email_moderation.read_token(token)
    except signing.SignatureExpired:
        return link_refused(request, "This link has expired", status=410)
    except signing.BadSignature:
        return link_refused(request, "This link is not valid", status=400)
    except email_moderation.StaleLink:
        return link_refused(
            request, "This link has been used, or the comment was moderated since", status=410
        )
    if request.method != "POST":
        return render(
            request, "comments/moderate_from_email.html", {"asked": asked, "comment": asked.comment}
        )
    if not email_moderation.carry_out(asked, request.user):
        return link_refused(request, "The comment was moderated meanwhile", status=409)
    messages.success(request, f"The comment by {asked.comment.author_name} was {asked.done}.")
    return HttpResponseSeeOther(reverse("admin:comments_comment_changelist"))


def link_refused(request, heading, status):
    return render(request, "comments/moderation_link_refused.html", {"heading": heading}, status=status)
