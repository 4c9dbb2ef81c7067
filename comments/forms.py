"""The reader's comment form, with its anti-spam fields."""

import time
from datetime import timedelta
from functools import lru_cache

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.core import signing
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from comments.models import BODY_MAX_LENGTH, Comment

FORM_TOKEN_SALT = "comments.form-token"
FORM_TOKEN_MAX_AGE = 2 * 60 * 60  # a form older than two hours must be sent again
DUPLICATE_WINDOW = timedelta(days=1)
FORM_TOKEN_PLACEHOLDER = "comment-form-token-placeholder"


def make_form_token(article, issued_at=None):
    """A signed token binding the form to one article (or its primary key) and to the
    moment it was shown."""
    issued = time.time() if issued_at is None else issued_at
    article_pk = getattr(article, "pk", article)
    return signing.dumps({"article": article_pk, "issued": round(issued, 3)}, salt=FORM_TOKEN_SALT)


def renew_form_token(request, stored_token):
    """Page-cache hole (settings.PAGE_CACHE_HOLES): a cached page's form gets a token
    issued now, for the article its stored token was made for.

    Text that only looks like the form's field (an editor's code example) is not a
    token the site signed: it is left as written.
    """
    try:
        return make_form_token(form_token_article(stored_token))
    except signing.BadSignature:
        return stored_token


@lru_cache(maxsize=1024)
def form_token_article(token):
    """The article primary key a token was made for (whatever its age)."""
    return signing.loads(token, salt=FORM_TOKEN_SALT)["article"]


def has_control_characters(text):
    return any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in text)


class CommentForm(forms.ModelForm):
    """Name, email and comment, plus a honeypot and a signed form token.

    The token is re-issued every time the form is shown, including when it is
    shown again with errors, so a reader who fixes a mistake is never refused
    for a stale token.
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

    class Meta:
        model = Comment
        fields = ["author_name", "author_email", "body"]
        labels = {"author_name": "Name", "author_email": "Email"}
        help_texts = {
            "author_name": "Shown with your comment.",
            "author_email": "Never shown; used only if a moderator needs to reach you.",
        }
        widgets = {
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "author_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, article, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.article = article
        self.seconds_to_submit = None
        if not self.is_bound:
            self.initial["form_token"] = make_form_token(article)
        self.fields["author_email"].required = True

    def refresh_token(self):
        """Give a form that is shown again a new token, keeping everything the reader typed."""
        self.data = self.data.copy()
        self.data[self.add_prefix("form_token")] = make_form_token(self.article)

    def clean_author_name(self):
        name = self.cleaned_data["author_name"]
        if has_control_characters(name):
            raise forms.ValidationError("Your name can't contain line breaks or control characters.")
        return name

    def clean_author_email(self):
        return self.cleaned_data["author_email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        self.check_form_token(cleaned.get("form_token"))
        email, body = cleaned.get("author_email"), cleaned.get("body")
        if email and body:
            duplicate = Comment.objects.filter(
                article=self.article,
                author_email=email,
                body=body,
                created_at__gte=timezone.now() - DUPLICATE_WINDOW,
            )
            if duplicate.exists():
                raise forms.ValidationError(
                    "You have already posted this comment on this article. "
                    "It may be waiting for a moderator.",
                    code="duplicate",
                )
        return cleaned

    def check_form_token(self, token):
        """Refuse a form that was not shown for this article in the last two hours.

        Records how long the reader took, for the policy's too-fast check.
        """
        expired = "This form has expired or was changed. Please check your comment and send it again."
        if not token:
            self.add_error(None, "This form is missing its security token. Please send your comment again.")
            return
        try:
            data = signing.loads(token, salt=FORM_TOKEN_SALT)
            issued = float(data["issued"])
            article_pk = data["article"]
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            self.add_error(None, expired)
            return
        age = time.time() - issued
        if article_pk != self.article.pk or not -60 < age <= FORM_TOKEN_MAX_AGE:
            self.add_error(None, expired)
            return
        self.seconds_to_submit = max(age, 0.0)


def render_comment_form(form):
    """The form's fields as crispy-forms renders them (`{{ form|crispy }}`).

    A blank form is the same on every article page but for its signed token, so it
    is rendered once per process and each page puts in its own token (rendering it
    costs about 1 ms, a quarter of an uncached article page). A bound form (shown
    again with errors and the reader's text) is rendered every time.
    """
    if form.is_bound:
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
