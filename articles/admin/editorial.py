"""Authors, medical reviews, site pages and topics in the admin."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from reversion.admin import VersionAdmin

from articles.admin.changelists import LenientChangeListMixin, as_id
from articles.models import (
    Article,
    Author,
    Review,
    SitePage,
    Topic,
)


@admin.register(Author)
class AuthorAdmin(LenientChangeListMixin, admin.ModelAdmin):
    list_display = ["name", "credentials", "is_organization", "user", "article_count"]
    list_filter = ["is_organization"]
    search_fields = ["name", "credentials"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "credentials", "is_organization", "bio", "user"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(article_total=Count("article_links"))
        )

    @admin.display(description="Articles", ordering="article_total")
    def article_count(self, author):
        return author.article_total


class ReviewForm(forms.ModelForm):
    """Record a review of an article as it stands now.

    The form remembers the content the reviewer had in front of them (`seen_digest`): if
    the article changes before they submit, the review is refused rather than recorded
    against content they did not see.
    """

    seen_digest = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Review
        fields = ["article", "reviewer", "outcome", "note"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "reviewer" in self.fields and not user.is_superuser:
            del self.fields["reviewer"]
        article_id = as_id(self.initial.get("article", ""))
        if article_id and not self.is_bound:
            article = Article.objects.filter(pk=article_id).only("content_digest").first()
            self.initial["seen_digest"] = article.content_digest if article else ""

    def clean(self):
        cleaned = super().clean()
        article, outcome = cleaned.get("article"), cleaned.get("outcome")
        reviewer = (
            cleaned.get("reviewer")
            if "reviewer" in self.fields
            else getattr(self.user, "author_profile", None)
        )
        if reviewer is None and "reviewer" not in self.fields:
            raise ValidationError(
                "Your account is not linked to an author profile, so a review cannot name you: "
                "ask an administrator to set your account as the user of your author profile."
            )
        self.instance.reviewer = reviewer
        if article is None or outcome is None:
            return cleaned
        if outcome == Review.Outcome.APPROVED and article.author_links.filter(author=reviewer).exists():
            raise ValidationError("An author of an article cannot approve it: another reviewer must.")
        if outcome == Review.Outcome.CHANGES_REQUESTED and not cleaned.get("note", "").strip():
            self.add_error("note", "Say what must change: the note is emailed to the authors and editors.")
        seen = cleaned.get("seen_digest")
        if seen and seen != article.content_digest:
            raise ValidationError(
                "The article changed after you opened this form. Read it again as it stands now, "
                "then record your review."
            )
        return cleaned


@admin.register(Review)
class ReviewAdmin(LenientChangeListMixin, admin.ModelAdmin):
    """Medical reviews: reviewers add them; nobody but a superuser changes one afterwards."""

    form = ReviewForm
    radio_fields = {"outcome": admin.VERTICAL}
    list_display = ["article", "outcome", "reviewer", "reviewed_at", "saw_current_content"]
    list_filter = ["outcome"]
    list_select_related = ["article", "reviewer"]
    search_fields = ["article__title", "reviewer__name", "note"]
    date_hierarchy = "reviewed_at"
    readonly_fields = ["reviewed_at", "recorded_by", "content_digest", "version"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class ReviewFormForUser(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, user=request.user, **kwargs)

        return ReviewFormForUser

    def get_fields(self, request, obj=None):
        # `seen_digest`, a hidden field, is rendered by the template (admin/articles/review/change_form.html).
        if obj is None:
            fields = ["article", "reviewer", "outcome", "note"]
            return fields if request.user.is_superuser else [f for f in fields if f != "reviewer"]
        return ["article", "reviewer", "outcome", "note", *self.readonly_fields]

    def add_view(self, request, form_url="", extra_context=None):
        article = Article.objects.filter(pk=as_id(request.GET.get("article", ""))).first()
        return super().add_view(request, form_url, {**(extra_context or {}), "review_article": article})

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(boolean=True, description="Saw the current content")
    def saw_current_content(self, review):
        return review.saw_current_content

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SitePage)
class SitePageAdmin(LenientChangeListMixin, VersionAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "body"]


@admin.register(Topic)
class TopicAdmin(LenientChangeListMixin, VersionAdmin):
    """Topics, with how many articles each has; articles are filed under them on their own form."""

    list_display = ["name", "slug", "article_count", "published_count"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "summary", "description"]

    def get_queryset(self, request):
        published = Q(articles__in=Article.objects.published())
        return (
            super()
            .get_queryset(request)
            .annotate(
                article_total=Count("articles", distinct=True),
                published_total=Count("articles", filter=published, distinct=True),
            )
        )

    @admin.display(description="Articles", ordering="article_total")
    def article_count(self, topic):
        return topic.article_total

    @admin.display(description="Published", ordering="published_total")
    def published_count(self, topic):
        return topic.published_total
