"""Pages about the site itself: About, Editorial policy, Privacy."""

import reversion
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import Resolver404, resolve

from articles.addresses import slug_address
from articles.markdown import render_markdown
from articles.models.article import (
    MARKDOWN_HELP,
    RenderedOnUpdateQuerySet,
    also_save_rendered,
    article_pages_changed,
)


class SitePageQuerySet(RenderedOnUpdateQuerySet):
    markdown_fields = ("body",)

    def update(self, **fields):
        updated = super().update(**fields)
        article_pages_changed()
        return updated


@reversion.register()
class SitePage(models.Model):
    """A page about the site itself ("About", "Editorial policy", "Privacy") at /<slug>/,
    written in Markdown like an article and rendered when saved."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The page's address: “about” is the page /about/."
    )
    body = models.TextField(help_text=MARKDOWN_HELP)
    body_html = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = SitePageQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = "site page"

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        also_save_rendered(kwargs, "body", "body_html")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_address("articles:site_page", self.slug)

    def clean(self):
        if self.slug and not self.address_is_free():
            raise ValidationError(
                {"slug": f"/{self.slug}/ is already an address of the site: choose another slug."}
            )

    def address_is_free(self):
        """Whether /<slug>/ reaches this page rather than another page of the site."""
        try:
            return resolve(f"/{self.slug}/").url_name == "site_page"
        except Resolver404:
            return False


def reader_pages_changed(sender, instance, **kwargs):
    """post_save/post_delete receiver of rows that reader pages show beside articles (a
    site page, a deleted author's profile): retire the cached pages."""
    article_pages_changed()
