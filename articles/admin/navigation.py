"""Redirects and the 404 report in the admin: editors keep old addresses working."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html

from articles.admin.changelists import LenientChangeListMixin
from articles.models import MissingPath, Redirect


@admin.register(Redirect)
class RedirectAdmin(LenientChangeListMixin, admin.ModelAdmin):
    """Old addresses and where they lead, made by slug changes and withdrawals or by hand.

    The add form takes `?old_path=` (the 404 report's "Add a redirect" links). A redirect
    is saved leading to the end of any chain, and those that led to its old address
    follow it (Redirect.save).
    """

    list_display = ["old_path", "leads_to", "note", "created_at"]
    search_fields = ["old_path", "new_path", "note"]
    fields = ["old_path", "new_path", "note"]
    date_hierarchy = "created_at"

    @admin.display(description="new address", ordering="new_path")
    def leads_to(self, redirect):
        return redirect.new_path or "410 Gone"

    def save_model(self, request, obj, form, change):
        asked = obj.new_path
        super().save_model(request, obj, form, change)
        if obj.new_path != asked:
            self.message_user(
                request,
                f"{asked} already leads to {obj.new_path}: the redirect was saved leading there "
                "directly, so readers get one redirect, not a chain.",
                messages.INFO,
            )


@admin.register(MissingPath)
class MissingPathAdmin(LenientChangeListMixin, admin.ModelAdmin):
    """The 404 report: read-only, most requested first; a row can be deleted to clear it."""

    list_display = ["path", "hits", "last_seen", "has_redirect", "add_redirect"]
    search_fields = ["path"]
    ordering = ["-hits", "-last_seen"]
    list_per_page = 100

    def get_queryset(self, request):
        redirects = Redirect.objects.filter(old_path=OuterRef("path"))
        return super().get_queryset(request).annotate(redirected=Exists(redirects))

    @admin.display(description="redirect now", boolean=True, ordering="redirected")
    def has_redirect(self, missing):
        return missing.redirected

    @admin.display(description="")
    def add_redirect(self, missing):
        if missing.redirected:
            return ""
        url = reverse("admin:articles_redirect_add") + "?" + urlencode({"old_path": missing.path})
        return format_html('<a href="{}">Add a redirect</a>', url)

    def has_add_permission(self, request):
        return False  # counted from readers' requests only

    def has_change_permission(self, request, obj=None):
        return False
