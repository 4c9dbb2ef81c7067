"""The article admin: articles in Markdown with their byline, side effects and references inline."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Greatest
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from reversion_compare.admin import CompareVersionAdmin

from articles.admin.changelists import LenientChangeListMixin, as_id
from articles.citations import citation_problems
from articles.images import consent_refusal, image_ids_shown, inline_image_ids, without_consent
from articles.models import (
    Article,
    ArticleAuthor,
    Reference,
    Review,
    SideEffect,
    refresh_once,
    review_interval,
)
from articles.redirects import withdraw
from articles.reviews import publication_refusal


class OptionalInlineFormSet(BaseInlineFormSet):
    """An inline that a POST without its management form leaves as it is, rather than
    refusing the whole save: a script or an older form that knows nothing of the inline
    changes the article and nothing of the inline."""

    def __init__(self, data=None, *args, **kwargs):
        self.was_sent = True
        if data is not None:
            prefix = kwargs.get("prefix") or self.get_default_prefix()
            if f"{prefix}-TOTAL_FORMS" not in data:
                self.was_sent = False
                data = data.copy()
                data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, **kwargs)


def submitted_side_effects(data, article):
    """[(name, Markdown)] of the side effects an article form sends (kept ones only), or
    the stored ones when the form sends none."""
    total = data.get("side_effects-TOTAL_FORMS")
    if total is None:
        return list(article.side_effects.values_list("name", "description")) if article.pk else []
    try:
        count = min(int(total), 1000)
    except ValueError:
        return []
    return [
        (data.get(f"side_effects-{index}-name", ""), data.get(f"side_effects-{index}-description", ""))
        for index in range(count)
        if not data.get(f"side_effects-{index}-DELETE")
    ]


class ReferenceFormSet(OptionalInlineFormSet):
    """The article's references, checked against the citations the form's texts make."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if self.was_sent:
            keys = {
                form.cleaned_data["key"]
                for form in self.forms
                if form.cleaned_data.get("key") and not self._should_delete_form(form)
            }
        else:
            keys = set(self.instance.references.values_list("key", flat=True)) if self.instance.pk else set()
        body = self.data.get("body", self.instance.body)
        errors, self.uncited = citation_problems(body, submitted_side_effects(self.data, self.instance), keys)
        if errors:
            raise ValidationError(errors)

    def get_unique_error_message(self, unique_check):
        if "key" in unique_check:
            return "Two references have the same key: each reference of an article needs its own key."
        return super().get_unique_error_message(unique_check)


class SideEffectInline(admin.StackedInline):
    model = SideEffect
    extra = 0
    fields = [("name", "order"), ("frequency", "duration"), "description", "image", "cause", "advice"]
    ordering = ["order", "pk"]
    raw_id_fields = ["image"]


class AuthorLinkInline(admin.TabularInline):
    model = ArticleAuthor
    formset = OptionalInlineFormSet
    extra = 0
    fields = ["author", "order"]
    ordering = ["order", "pk"]
    autocomplete_fields = ["author"]
    verbose_name = "author"
    verbose_name_plural = "Byline (authors, in order)"


class ReferenceInline(admin.StackedInline):
    model = Reference
    formset = ReferenceFormSet
    extra = 0
    fields = [
        ("key", "order"),
        "authors",
        "title",
        ("publisher", "year"),
        "url",
        ("doi", "pmid"),
        ("accessed_on", "side_effect"),
    ]
    ordering = ["order", "pk"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "side_effect":
            # Only this article's side effects (a new one can be chosen once it is saved).
            article_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = SideEffect.objects.filter(article_id=article_id if article_id else None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ArticleAdminForm(forms.ModelForm):
    """The article form; with ARTICLES_REVIEW_REQUIRED it refuses to publish unreviewed content."""

    CONTENT_FIELDS = ("title", "summary", "body")

    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "summary",
            "body",
            "featured_image",
            "topics",
            "status",
            "published_at",
            "comments_open",
            "comments_close_at",
        ]

    def clean(self):
        cleaned = super().clean()
        self.publishes = cleaned.get("status") == Article.Status.PUBLISHED and not (
            self.instance.pk
            and Article.objects.filter(pk=self.instance.pk, status=Article.Status.PUBLISHED).exists()
        )
        if self.publishes and settings.ARTICLES_REVIEW_REQUIRED:
            if self.instance.pk is None or set(self.CONTENT_FIELDS) & set(self.changed_data):
                refusal = (
                    "This site publishes only medically reviewed content, and these changes have "
                    "not been reviewed: save the article as a draft and ask a reviewer to review it."
                )
            else:
                refusal = publication_refusal(self.instance)
            if refusal:
                self.add_error("status", refusal)
        if cleaned.get("status") == Article.Status.PUBLISHED:
            featured = cleaned.get("featured_image")
            shown = {int(ref) for ref in inline_image_ids(cleaned.get("body")) if ref.isdigit()}
            refusal = consent_refusal(without_consent(shown | ({featured.pk} if featured else set())))
            if refusal:
                self.add_error("status", refusal)
        return cleaned


class ReviewStatusFilter(admin.SimpleListFilter):
    title = "medical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("never", "Never reviewed"),
            ("due", "Review due"),
            ("edited", "Edited since review"),
            ("current", "Reviewed, up to date"),
        ]

    def queryset(self, request, queryset):
        due_before = timezone.now() - review_interval()
        return {
            "never": queryset.filter(last_reviewed_at__isnull=True),
            "due": queryset.filter(Q(last_reviewed_at__isnull=True) | Q(last_reviewed_at__lt=due_before)),
            "edited": queryset.filter(last_reviewed_at__isnull=False, content_is_reviewed=False),
            "current": queryset.filter(last_reviewed_at__gte=due_before, content_is_reviewed=True),
        }.get(self.value(), queryset)


@admin.register(Article)
class ArticleAdmin(LenientChangeListMixin, CompareVersionAdmin):
    """Articles with their side effects inline.

    Every save through the admin is a revision of the article together with its side
    effects (django-reversion): "History" lists them, compares two, and restores one.
    An app above this one may register a subclass in its place, to add what it owns.
    """

    form = ArticleAdminForm
    inlines = [AuthorLinkInline, SideEffectInline, ReferenceInline]
    actions = ["publish_articles", "withdraw_articles"]
    list_display = [
        "title",
        "status",
        "is_published",
        "published_at",
        "comments_open",
        "side_effect_count",
        "last_reviewed",
        "last_reviewer",
        "edited_since_review",
        "review_due",
        "updated_at",
    ]
    list_filter = ["status", ReviewStatusFilter, "comments_open", "topics"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["topics"]
    # The image's number, with the library's list (thumbnails, search) a click away.
    raw_id_fields = ["featured_image"]
    date_hierarchy = "published_at"
    readonly_fields = ["author", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "featured_image", "topics"]}),
        ("Publication", {"fields": ["status", "published_at", "author", "created_at", "updated_at"]}),
        ("Comments", {"fields": ["comments_open", "comments_close_at"]}),
    ]
    object_history_template = "admin/articles/article/object_history.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(side_effect_total=Count("side_effects"))
            .with_review_status()
        )

    @admin.display(description="Last reviewed", ordering="last_reviewed_at", empty_value="Never")
    def last_reviewed(self, article):
        return article.last_reviewed_at and timezone.localtime(article.last_reviewed_at).date()

    @admin.display(description="Reviewer", ordering="last_reviewer_name", empty_value="–")
    def last_reviewer(self, article):
        return article.last_reviewer_name

    @admin.display(description="Edited since review", boolean=True)
    def edited_since_review(self, article):
        if article.last_reviewed_at is None:
            return None
        return not article.content_is_reviewed

    @admin.display(description="Review due", ordering="last_reviewed_at")
    def review_due(self, article):
        if article.last_reviewed_at is None:
            return format_html('<strong class="review-overdue">{}</strong>', "Now (never reviewed)")
        due = article.last_reviewed_at + review_interval()
        date = timezone.localtime(due).date()
        if due <= timezone.now():
            return format_html('<strong class="review-overdue">{} (overdue)</strong>', date)
        return date

    @admin.action(permissions=["change"], description="Publish selected articles")
    def publish_articles(self, request, queryset):
        refused = []
        publishable = []
        unconsented = []
        for article in queryset.filter(status=Article.Status.DRAFT):
            refusal = publication_refusal(article)
            if refusal:
                refused.append(article.title)
            elif without_consent(set(article.image_links.values_list("image_id", flat=True))):
                unconsented.append(article.title)
            else:
                publishable.append(article.pk)
        # A draft written weeks ago is published now; a scheduled date is kept.
        count = Article.objects.filter(pk__in=publishable).update(
            status=Article.Status.PUBLISHED, published_at=Greatest(F("published_at"), timezone.now())
        )
        if count:
            self.message_user(
                request, f"Published {count} article{'s' if count != 1 else ''}.", messages.SUCCESS
            )
        if refused:
            titles = ", ".join(f"“{title}”" for title in refused)
            self.message_user(
                request,
                f"Not published, because no approved medical review saw their current content: {titles}.",
                messages.ERROR,
            )
        if unconsented:
            titles = ", ".join(f"“{title}”" for title in unconsented)
            self.message_user(
                request,
                f"Not published, because they show a person whose consent is not recorded: {titles}. "
                "Record it in the image library first.",
                messages.ERROR,
            )

    @admin.action(permissions=["withdraw"], description="Withdraw selected articles (410 Gone)")
    def withdraw_articles(self, request, queryset):
        """Unpublish on purpose: readers get “410 Gone” at their addresses (staff still preview
        them), also once deleted, until one is published there again."""
        note = f"Withdrawn by {request.user.get_username()} on {timezone.localdate().isoformat()}."
        count = withdraw(queryset, note)
        self.message_user(
            request,
            f"Withdrew {count} article{'s' if count != 1 else ''}: readers now get “410 Gone” at "
            "the address (see Redirects). Publishing an article again there brings it back.",
            messages.SUCCESS,
        )

    def has_withdraw_permission(self, request):
        return self.has_change_permission(request) and request.user.has_perm("articles.add_redirect")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.user.has_perm("articles.add_review"):
            context["record_review_url"] = reverse("admin:articles_review_add") + f"?article={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        reviews = Review.objects.filter(article_id=as_id(object_id))
        extra_context = {
            **(extra_context or {}),
            "reviews": reviews.select_related("reviewer", "version__revision"),
        }
        return super().history_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        # An article's reviews, references and byline go with it: they need no permission of their own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for model in (Review, Reference, ArticleAuthor):
            perms_needed.discard(model._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    @admin.display(boolean=True, description="Visible to readers")
    def is_published(self, article):
        return article.is_published

    @admin.display(description="Side effects", ordering="side_effect_total")
    def side_effect_count(self, article):
        return article.side_effect_total

    def compare_view(self, request, object_id, extra_context=None):
        # django-reversion-compare checks no model permission of its own.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # The side effects are saved one by one: render and index the article once.
        with refresh_once():
            super().save_related(request, form, formsets, change)
        for formset in formsets:
            for key in getattr(formset, "uncited", []):
                self.message_user(
                    request,
                    f"The reference “{key}” is not cited in the text: cite it as [@{key}].",
                    messages.WARNING,
                )
        article = form.instance
        if article.status == Article.Status.PUBLISHED:
            # A side effect's image may show a person: checked once the side effects are saved.
            refusal = consent_refusal(without_consent(image_ids_shown(article, article.side_effects.all())))
            if refusal:
                Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
                article.status = Article.Status.DRAFT
                self.message_user(request, f"Saved as a draft, not published. {refusal}", messages.ERROR)
                return
        if getattr(form, "publishes", False) and settings.ARTICLES_REVIEW_REQUIRED:
            article.refresh_from_db(fields=["content_digest"])
            if publication_refusal(article):
                # The side effects or references changed with it: keep every change, as a draft.
                Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
                article.status = Article.Status.DRAFT
                self.message_user(
                    request,
                    "Saved as a draft, not published: the side effects or references changed, and no "
                    "approved medical review has seen this content.",
                    messages.ERROR,
                )
