"""The pages of the links in readers' emails (comments.subscriptions): confirm an address,
and unsubscribe.

A GET never changes anything (mail scanners follow every link): each link opens a page whose
one button POSTs. The unsubscribe address also takes the POST a mail program sends for the
List-Unsubscribe-Post header (RFC 8058: the body `List-Unsubscribe=One-Click`, no cookie, no
CSRF token), so it is exempt from the CSRF check; the signed token in its address is the
authority, as it is for the button. No login: the reader has no account. The pages are never
cached and never indexed.
"""

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comments import subscriptions


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """The confirmation link: GET asks, the button's POST confirms (again after an
    unsubscription). A link used twice says the address is confirmed already."""
    try:
        address = subscriptions.read_confirmation_token(token)
    except signing.SignatureExpired:
        days = settings.COMMENTS_CONFIRMATION_LINK_DAYS
        return refused(
            request,
            "This confirmation link has expired",
            f"Confirmation links work for {days} days. To get emails about your comments, tick the box "
            "again when you next comment: we will send you a new link.",
            status=410,
        )
    except signing.BadSignature:
        return refused(request, "This confirmation link is not valid", BAD_LINK, status=400)
    except subscriptions.AddressGone:
        return refused(request, "This confirmation link no longer works", GONE, status=410)
    context = {"address": subscriptions.masked(address.email)}
    if address.may_be_emailed:
        return render(request, "comments/notifications_confirmed.html", {**context, "already": True})
    if request.method != "POST":
        return render(request, "comments/notifications_confirm.html", context)
    already = not subscriptions.confirm(address)
    return render(request, "comments/notifications_confirmed.html", {**context, "already": already})


@csrf_exempt  # the token is the authority: see the module's docstring
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """The unsubscribe link: GET asks, a POST (the page's button, or a mail program's one
    click) unsubscribes at once. Unsubscribing twice says so, and changes nothing more."""
    try:
        address = subscriptions.read_unsubscribe_token(token)
    except signing.BadSignature:
        return refused(request, "This unsubscribe link is not valid", BAD_LINK, status=400)
    except subscriptions.AddressGone:
        # Its owner's data was erased: nothing is stored to email, so nothing will be sent.
        return render(request, "comments/unsubscribed.html", {"address": None, "already": True})
    context = {"address": subscriptions.masked(address.email)}
    if request.method != "POST":
        return render(
            request, "comments/unsubscribe.html", {**context, "already": address.unsubscribed_at is not None}
        )
    already = not subscriptions.unsubscribe(address)
    return render(request, "comments/unsubscribed.html", {**context, "already": already})


BAD_LINK = (
    "Nothing was changed. Please check that the whole link was copied from the email: some mail "
    "programs break long links in two."
)
GONE = "Nothing was changed: this email address is no longer stored on smpinfo."


def refused(request, heading, explanation, status):
    context = {"heading": heading, "explanation": explanation}
    return render(request, "comments/notification_link_refused.html", context, status=status)
