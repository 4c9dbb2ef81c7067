"""How readers find their way: topics, the related articles stored with each article,
redirects that keep old addresses working, and the missing paths readers asked for."""

import reversion
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from articles.markdown import render_markdown
from articles.models.article import (
    MARKDOWN_HELP,
    Article,
    RenderedOnUpdateQuerySet,
    also_save_rendered,
    article_pages_changed,
)


class TopicQuerySet(RenderedOnUpdateQuerySet):
    markdown_fields = ("description",)

    def update(self, **fields):
        """Update the topics and store again the articles that link them (their names)."""
        pks = list(self.values_list("pk", flat=True))
        updated = super().update(**fields)
        Article.objects.filter(topics__in=pks).distinct().refresh_derived_fields()
        article_pages_changed()
        return updated


@reversion.register()
class Topic(models.Model):
    """A subject that articles are filed under ("Aftercare", "Risks"), with a page of its own
    at /topics/<slug>/ that lists its published articles."""

    name = models.CharField(
        max_length=100, unique=True, help_text="As readers see it on articles and its page."
    )
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The topic page's address: /topics/ followed by the slug."
    )
    description = models.TextField(
        blank=True, help_text=f"Shown at the top of the topic's page. {MARKDOWN_HELP}"
    )
    description_html = models.TextField(editable=False, default="")
    summary = models.CharField(
        max_length=300,
        blank=True,
        help_text="One sentence for the topics index and search engines (meta description).",
    )

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.description_html = render_markdown(self.description)
        also_save_rendered(kwargs, "description", "description_html")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:topic", kwargs={"slug": self.slug})

    def outline(self):
        """What an article stores of each of its topics (Article.topic_outline)."""
        return {"name": self.name, "slug": self.slug}


class RelatedArticle(models.Model):
    """One entry of an article's related articles, ranked when articles change
    (articles.related), so that the article page ranks nothing; kept as rows so that a
    change of the related article finds every list that shows it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="related_links")
    related = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="listed_in")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["article", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["article", "related"], name="related_article_once"),
        ]

    def __str__(self):
        return f"{self.article_id} → {self.related_id} (#{self.rank})"


def validate_site_path(path):
    if not path.startswith("/") or path.startswith("//"):
        raise ValidationError("Give a path of this site, starting with one “/”, e.g. /articles/old-slug/.")
    if any(character.isspace() for character in path):
        raise ValidationError("A path has no spaces: write them as %20.")


def validate_target(target):
    if target and not target.startswith(("https://", "http://")):
        validate_site_path(target)


class Redirect(models.Model):
    """An old address of the site and where it leads now, or that it is gone for good (410).

    Made by the site when a published article's slug changes, or by editors by hand. A
    redirect answers only where the site itself has no page: an article that takes an
    old address wins over it.
    """

    old_path = models.CharField(
        "old address",
        max_length=500,
        unique=True,
        validators=[validate_site_path],
        help_text="A path of this site, e.g. /articles/old-slug/. Its comment pages and anchors follow it.",
    )
    new_path = models.CharField(
        "new address",
        max_length=500,
        blank=True,
        validators=[validate_target],
        help_text="A path of this site (/articles/new-slug/) or a full URL. Leave empty to answer "
        "“410 Gone”: the page was removed on purpose and will not come back.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why it exists, for editors.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]

    def __str__(self):
        return f"{self.old_path} → {self.new_path or '410 Gone'}"

    @property
    def is_gone(self):
        return not self.new_path


class MissingPath(models.Model):
    """A path readers asked for that had no page, and how often: the 404 report. Counted in
    each process's memory and written at most once a minute (articles.missing_paths), and
    kept to the most requested few hundred."""

    path = models.CharField(max_length=500, unique=True)
    hits = models.PositiveBigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-hits", "path"]
        verbose_name = "missing page"
        indexes = [models.Index(fields=["-hits", "-last_seen"], name="missing_path_most_requested")]

    def __str__(self):
        return self.path
