"""The reader's comment form, with its anti-spam fields."""

import logging
import secrets
import time
from functools import lru_cache

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.core import signing
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import get_token
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from comments.models import (
    BODY_MAX_LENGTH,
    DUPLICATE_MESSAGE,
    Comment,
    CommentReport,
    PersonalDataRequest,
    normalize_email,
)

logger = logging.getLogger(__name__)

FORM_TOKEN_SALT = "comments.form-token"
FORM_TOKEN_MAX_AGE = 2 * 60 * 60  # a form older than two hours must be sent again
FORM_TOKEN_PLACEHOLDER = "comment-form-token-placeholder"
REPLY_REFUSED_MESSAGE = (
    "The comment you are replying to is not shown on this article (any more), so your reply "
    "was not sent. Your text is kept below: send it as a new comment, or copy it."
)
EXPIRED_MESSAGE = "This form has expired or was changed. Please check your comment and send it again."
ALREADY_SENT_MESSAGE = (
    "This form was already sent once. If your comment is not on the page, it may be waiting for a "
    "moderator; to send it again, check it and press “Send comment”."
)


def browser_key(request):
    """A digest of the reader's CSRF secret: what binds a form token to the browser it was shown in.

    Django keeps the secret of the CSRF cookie in request.META["CSRF_COOKIE"]. A request
    without one (no request at all, or a POST without the cookie, which the CSRF check
    refuses on the real site) gives the empty key.
    """
    secret = request.META.get("CSRF_COOKIE") if request is not None else None
    return salted_hmac(f"{FORM_TOKEN_SALT}.browser", secret).hexdigest()[:24] if secret else ""


def make_form_token(article, request=None, issued_at=None):
    """A signed token binding the form to one article (or its primary key), the moment it was
    shown, the reader's browser (through its CSRF cookie) and a one-time nonce.

    With a request, the reader gets a CSRF cookie if they had none (get_token), as the
    form's own {% csrf_token %} would give them.
    """
    if request is not None:
        get_token(request)
    issued = time.time() if issued_at is None else issued_at
    return signing.dumps(
        {
            "article": getattr(article, "pk", article),
            "issued": round(issued, 3),
            "browser": browser_key(request),
            "nonce": secrets.token_urlsafe(12),
        },
        salt=FORM_TOKEN_SALT,
    )


def renew_form_token(request, stored_token):
    """Page-cache hole (settings.PAGE_CACHE_HOLES): a cached page's form gets a token issued
    now, for this reader's browser and the article its stored token was made for.

    Text that only looks like the form's field (an editor's code example) is not a
    token the site signed: it is left as written.
    """
    try:
        return make_form_token(form_token_article(stored_token), request)
    except signing.BadSignature:
        return stored_token


@lru_cache(maxsize=1024)
def form_token_article(token):
    """The article primary key a token was made for (whatever its age)."""
    return signing.loads(token, salt=FORM_TOKEN_SALT)["article"]


def use_form_token(nonce):
    """Record the one use of the token with this nonce; False when it was used before.

    Kept in the default cache (shared by every app server, where pages cannot evict it) for
    as long as the token is valid. If the cache is down the token is accepted and the
    failure logged: an outage of the cache must not stop readers from commenting, and the
    token is still bound to the reader's browser.
    """
    try:
        return cache.add(f"comments:form-token-used:{nonce}", 1, FORM_TOKEN_MAX_AGE + 60)
    except Exception:
        logger.warning("Comment form token accepted without its single-use check: the cache did not answer")
        return True


def has_control_characters(text):
    return any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in text)


class CommentForm(forms.ModelForm):
    """Name, email and comment, plus a honeypot and a signed form token.

    The token is good for one comment, from the browser it was shown in. It is
    re-issued every time the form is shown, including when it is shown again with
    errors, so a reader who fixes a mistake is never refused for a stale token.
    """

    honeypot = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    body = forms.CharField(
        label="Comment",
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"Plain text, up to {BODY_MAX_LENGTH:,} characters. Comments are moderated.",
    )

    parent = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Comment
        fields = ["author_name", "author_email", "body", "notify"]
        labels = {
            "author_name": "Name",
            "author_email": "Email",
            "notify": "Email me when my comment is published and when someone replies",
        }
        help_texts = {
            "author_name": "Shown with your comment.",
            "author_email": "Never shown; used only if a moderator needs to reach you.",
            "notify": "We first send you a link to confirm your address. Every email has a one-click "
            "unsubscribe.",
        }
        widgets = {
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "author_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, article, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.article = article
        self.request = request
        self.seconds_to_submit = None
        if not self.is_bound:
            self.initial["form_token"] = make_form_token(article, request)
        self.fields["author_email"].required = True

    def refresh_token(self):
        """Give a form that is shown again a new token, keeping everything the reader typed."""
        self.data = self.data.copy()
        self.data[self.add_prefix("form_token")] = make_form_token(self.article, self.request)
        if getattr(self, "reply_refused", False):
            self.data[self.add_prefix("parent")] = ""

    @property
    def replying_to(self):
        """The comment this form replies to, once cleaned (None for a new comment)."""
        return getattr(self, "cleaned_data", {}).get("parent")

    def add_duplicate_error(self):
        """The comment turned out to be a duplicate when it was stored (the database's
        unique constraint): say so as the form's own error."""
        self.add_error(None, forms.ValidationError(DUPLICATE_MESSAGE, code="duplicate"))

    def clean_author_name(self):
        name = self.cleaned_data["author_name"]
        if has_control_characters(name):
            raise forms.ValidationError("Your name can't contain line breaks or control characters.")
        return name

    def clean_author_email(self):
        return normalize_email(self.cleaned_data["author_email"])

    def clean_parent(self):
        """The comment a reply answers: an approved comment of this article that readers
        see. A reply to a reply answers the same top-level comment."""
        pk = self.cleaned_data["parent"]
        if pk is None:
            return None
        replied_to = (
            Comment.objects.shown()
            .filter(article_id=self.article.pk, pk=pk)
            .select_related("parent")
            .only("pk", "author_name", "parent__id", "parent__author_name")
            .first()
        )
        if replied_to is None:
            # The form's own error (the field is hidden); shown again, it is a new comment.
            self.add_error(None, forms.ValidationError(REPLY_REFUSED_MESSAGE, code="parent"))
            self.reply_refused = True
            return None
        return replied_to.parent or replied_to

    def save(self, commit=True):
        comment = super().save(commit=False)
        comment.parent = self.cleaned_data.get("parent")
        if commit:
            comment.save()
        return comment

    def clean(self):
        """The form token's checks; a form with no other error then uses its token up.

        Duplicates are not looked for here: the database refuses them when the comment is
        stored (see comments.views.post_comment), which two comments sent at once cannot race.
        """
        cleaned = super().clean()
        nonce = self.check_form_token(cleaned.get("form_token"))
        if nonce is not None and not self.errors and not use_form_token(nonce):
            self.add_error(None, forms.ValidationError(ALREADY_SENT_MESSAGE, code="already_sent"))
        return cleaned

    def check_form_token(self, token):
        """Refuse a form that was not shown for this article, in this browser, in the last two
        hours; return the token's nonce when it passes.

        Records how long the reader took, for the policy's too-fast check.
        """
        if not token:
            self.add_error(None, "This form is missing its security token. Please send your comment again.")
            return None
        try:
            data = signing.loads(token, salt=FORM_TOKEN_SALT)
            issued = float(data["issued"])
            article_pk, browser, nonce = data["article"], str(data["browser"]), str(data["nonce"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            self.add_error(None, EXPIRED_MESSAGE)
            return None
        age = time.time() - issued
        if (
            article_pk != self.article.pk
            or not -60 < age <= FORM_TOKEN_MAX_AGE
            or not constant_time_compare(browser, browser_key(self.request))
        ):
            self.add_error(None, EXPIRED_MESSAGE)
            return None
        self.seconds_to_submit = max(age, 0.0)
        return nonce


def render_comment_form(form):
    """The form's fields as crispy-forms renders them (`{{ form|crispy }}`).

    A blank form is the same on every article page but for its signed token, so it
    is rendered once per process and each page puts in its own token (rendering it
    costs about 1 ms, a quarter of an uncached article page). A bound form (shown
    again with errors and the reader's text) or a reply form is rendered every time.
    """
    if form.is_bound or form.initial.get("parent"):
        return as_crispy_form(form)
    token = conditional_escape(form.initial["form_token"])
    return mark_safe(blank_form_markup().replace(FORM_TOKEN_PLACEHOLDER, token))


@lru_cache(maxsize=1)
def blank_form_markup():
    form = CommentForm(article=None)
    form.initial["form_token"] = FORM_TOKEN_PLACEHOLDER
    return str(as_crispy_form(form))


@receiver(setting_changed)
def forget_blank_form_markup(setting, **kwargs):
    if setting in ("TEMPLATES", "CRISPY_TEMPLATE_PACK", "CRISPY_ALLOWED_TEMPLATE_PACKS"):
        blank_form_markup.cache_clear()


class ReportForm(forms.Form):
    """Why a reader reports a comment: one reason from a short list."""

    reason = forms.ChoiceField(
        label="What is wrong with this comment?",
        choices=CommentReport.Reason.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choose what is wrong with the comment.",
                        "invalid_choice": "Choose one of the reasons listed."},
    )  # fmt: skip


class PersonalDataForm(forms.Form):
    """The admin's export or erasure of one commenter's data, by email."""

    email = forms.EmailField(help_text="The email the person commented with (any letter case).")
    action = forms.ChoiceField(
        choices=PersonalDataRequest.Action.choices, widget=forms.RadioSelect, initial="export"
    )
    confirm = forms.BooleanField(
        required=False,
        label="I have checked that this request comes from the person, and the erasure cannot be undone.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") != PersonalDataRequest.Action.EXPORT and not cleaned.get("confirm"):
            self.add_error("confirm", "Tick this box to erase: an erasure cannot be undone.")
        return cleaned
