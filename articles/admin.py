"""Admin for editors: articles written in Markdown with their side effects inline."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from reversion_compare.admin import CompareVersionAdmin

from articles.models import Article, SideEffect, refresh_once


class LenientChangeList(ChangeList):
    """A changelist that answers a filter value the database cannot take (a year out of
    range, an integer too large for its column) as Django answers an unknown lookup: the
    list again with "?e=1", not a server error. Such values only fail when the query is
    built or sent, after Django's own checks of the lookup."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:  # a date-hierarchy year beyond any date
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        try:
            super().get_results(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class LenientChangeListMixin:
    """For the site's admins: their changelists are LenientChangeLists."""

    def get_changelist(self, request, **kwargs):
        return LenientChangeList


class SideEffectInline(admin.StackedInline):
    model = SideEffect
    extra = 0
    fields = [("name", "order"), ("frequency", "duration"), "description", "cause", "advice"]
    ordering = ["order", "pk"]


@admin.register(Article)
class ArticleAdmin(LenientChangeListMixin, CompareVersionAdmin):
    """Articles with their side effects inline.

    Every save through the admin is a revision of the article together with its side
    effects (django-reversion): "History" lists them, compares two, and restores one.
    An app above this one may register a subclass in its place, to add what it owns.
    """

    inlines = [SideEffectInline]
    list_display = [
        "title",
        "status",
        "is_published",
        "published_at",
        "comments_open",
        "side_effect_count",
        "updated_at",
    ]
    list_filter = ["status", "comments_open"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    readonly_fields = ["author", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body"]}),
        ("Publication", {"fields": ["status", "published_at", "author", "created_at", "updated_at"]}),
        ("Comments", {"fields": ["comments_open", "comments_close_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(side_effect_total=Count("side_effects"))

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
