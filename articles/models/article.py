"""Articles and their structured side-effect entries, and what their pages store when saved."""

import copy
import hashlib
import json
import logging
import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import reversion
from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.dispatch import receiver
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify
from reversion.models import Version

from articles.addresses import slug_address
from articles.citations import cite_references
from articles.images import check_inline_images, image_ids_shown
from articles.markdown import render_markdown, render_markdown_with_headings
from articles.once import OncePerBlock
from articles.structured_data import stored_json_ld
from images.markup import FIGURE_TEMPLATE, PICTURE_TEMPLATE, figure_html, picture_html, preview_outline
from images.models import THUMBNAIL_SIZES
from pagecache import pages_changed

logger = logging.getLogger(__name__)

WORDS_PER_MINUTE = 200
SEARCH_CONFIG = "english"
CONTENT_TEMPLATE = "articles/_article_content.html"
HEADER_TEMPLATE = "articles/_article_header.html"
REFERENCES_TEMPLATE = "articles/_references.html"
# What a list of articles shows of each: see ArticleQuerySet.for_list().
LIST_FIELDS = [
    "title", "slug", "summary", "published_at", "updated_at", "reading_minutes", "byline", "image_outline",
]  # fmt: skip

# The page-cache scope of every reader page that shows articles (settings.PAGE_CACHE_SCOPES):
# lists, feeds, the sitemap and each article page's "related articles".
ARTICLE_PAGES = "articles"

MARKDOWN_HELP = (
    "Markdown: **bold**, *italic*, [links](https://example.org), lists, tables and "
    "## headings (a single # becomes a section heading; the title is the page heading). "
    "Raw HTML, scripts and styles are removed when you save."
)


def also_save_rendered(kwargs, source, *rendered):
    """Model.save() kwargs that save the fields `rendered` from `source` whenever a save
    limited by update_fields saves `source`."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and source in update_fields:
        kwargs["update_fields"] = {*update_fields, *rendered}
    return kwargs


class RenderedOnUpdateQuerySet(models.QuerySet):
    """A queryset whose bulk update of Markdown renders it, as a save does: each row whose
    `markdown_fields` change is saved again with just those fields (its save() renders
    them and refreshes what depends on them)."""

    markdown_fields = ()

    def update(self, **fields):
        changed = [name for name in self.markdown_fields if name in fields]
        pks = list(self.values_list("pk", flat=True)) if changed else []
        updated = super().update(**fields)
        for row in self.model.objects.filter(pk__in=pks):
            row.save(update_fields=changed)
        return updated


class ArticleQuerySet(RenderedOnUpdateQuerySet):
    markdown_fields = ("body",)

    def published(self, at=None):
        """Articles readers may see: status published and a publication time that has come
        (by `at`, now unless given).

        A future `published_at` schedules an article: it appears by itself when the
        time comes, with no job to run.
        """
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=at or timezone.now())

    def update(self, **fields):
        """Update the articles and retire the reader pages that show them, on commit.

        Every bulk change goes through here, so none can leave a stale page; a change of
        what the stored content is made of stores it again, and a change of what lists of
        related articles show ranks them again. A change of slug or status keeps old
        addresses working as a save does (articles.redirects).
        """
        from articles import redirects
        from articles.related import LISTED_FIELDS, refresh_related  # it builds on these models

        content_changed = {"title", "summary"} & set(fields) and "body" not in fields
        listed_changed = set(LISTED_FIELDS) & set(fields)
        pks = list(self.values_list("pk", flat=True)) if content_changed or listed_changed else []
        addresses = redirects.addresses_before_update(self, fields)
        updated = super().update(**fields)
        if addresses:
            redirects.addresses_updated(addresses)
        if updated:
            article_pages_changed()
        if pks and content_changed:
            Article.objects.filter(pk__in=pks).refresh_derived_fields()
        if pks and listed_changed:
            refresh_related(pks)
        return updated

    def refresh_derived_fields(self):
        """Store again what search and the page need of each of these articles (see
        Article.refresh_derived_fields); returns how many. For bulk loads and deploys."""
        count = 0
        for article in self.prefetch_related(*content_part_lookups()).iterator(chunk_size=500):
            article.refresh_derived_fields(prefetched=True)
            count += 1
        return count

    def showing_authors(self, authors):
        """Articles whose byline or review line names one of `authors` (Authors or pks)."""
        return self.filter(Q(author_links__author__in=authors) | Q(reviews__reviewer__in=authors)).distinct()

    def by_author(self, author):
        """Articles whose byline names `author`."""
        return self.filter(author_links__author=author)

    def with_stale_content(self):
        """Articles whose stored content another version of the page template rendered
        (or none did: articles loaded in bulk)."""
        return self.exclude(content_revision=content_revision())

    def with_review_status(self):
        """Annotate each article with its latest approved review (`last_reviewed_at` and
        `last_reviewer_name`, None when never reviewed) and whether an approved review saw
        its content as it stands (`content_is_reviewed`)."""
        from articles.models.editorial import Review

        approved = Review.objects.approved().filter(article=OuterRef("pk"))
        return self.annotate(
            last_reviewed_at=Subquery(approved.values("reviewed_at")[:1]),
            last_reviewer_name=Subquery(approved.values("reviewer__name")[:1]),
            content_is_reviewed=Exists(approved.filter(content_digest=OuterRef("content_digest"))),
        )

    def set_comments_open(self, is_open):
        """Open or close the comment threads of these articles; returns how many."""
        return self.update(comments_open=is_open)

    def for_list(self, *extra_fields):
        """Only the fields a list of articles shows (home, feeds, search, related articles)."""
        return self.only(*LIST_FIELDS, *extra_fields)

    def for_page(self):
        """Only the fields an article page shows: its content is stored rendered, so the
        page needs neither the Markdown nor the side effects."""
        return self.for_list(
            "status",
            "comments_open",
            "comments_close_at",
            "content_html",
            "content_revision",
            "side_effect_outline",
            "header_html",
            "editorial_outline",
            "structured_data",
            "topic_outline",
            "related_outline",
            "approved_comment_count",
            "approved_top_level_count",
            "pinned_answer_count",
        )


class PageQuery:
    """The query of an article's page for readers, `published().for_page()` of one slug, with
    its SQL made by the ORM once per process and database and run again with each request's
    time and slug: building and compiling the queryset took 0.35 of its 0.63 ms (an uncached
    page costs about 2 ms), the query itself 0.12.

    The SQL is compiled from that very queryset with made-up values for the time and the slug,
    and the two are found again among its parameters, so there is no second spelling of what
    "published" means to keep in step.
    """

    MADE_UP_TIME = datetime(2000, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    MADE_UP_SLUG = "made-up-slug-to-find-among-the-parameters"

    def __init__(self):
        self.compiled = {}  # database alias -> (sql, params, index of the time, of the slug)

    def get(self, slug, using=DEFAULT_DB_ALIAS):
        """The published article at `slug` with the fields its page shows, or None."""
        if using not in self.compiled:
            self.compiled[using] = self.compile(using)
        sql, params, time_index, slug_index = self.compiled[using]
        params = list(params)
        params[time_index] = self.time_parameter(timezone.now(), connections[using])
        params[slug_index] = slug
        return next(iter(Article.objects.raw(sql, params).using(using)), None)

    def compile(self, using):
        queryset = Article.objects.published(at=self.MADE_UP_TIME).for_page().filter(slug=self.MADE_UP_SLUG)
        sql, params = queryset.query.get_compiler(using).as_sql()
        time_parameter = self.time_parameter(self.MADE_UP_TIME, connections[using])
        return sql, tuple(params), list(params).index(time_parameter), list(params).index(self.MADE_UP_SLUG)

    @staticmethod
    def time_parameter(moment, connection):
        """`moment` as the ORM passes it to the database in `published_at__lte`."""
        field = Article._meta.get_field("published_at")
        return field.get_db_prep_value(field.get_prep_value(moment), connection, prepared=True)


page_query = PageQuery()


def article_pages_changed():
    """Every reader page may show what changed: retire them all once the transaction commits."""
    pages_changed(ARTICLE_PAGES)


def article_saved_or_deleted(sender, instance, **kwargs):
    """Signal receiver for Article (and its proxies) and SideEffect."""
    article_pages_changed()


def review_interval():
    """How long after its last approved medical review an article is due for another."""
    return timedelta(days=settings.ARTICLES_REVIEW_INTERVAL_DAYS)


def keep_what_readers_saw(sender, instance, raw, **kwargs):
    """pre_save receiver: a raw save (restoring a revision, loaddata) writes an article as
    it was, but the digest and "Updated" date of what readers saw until now stay, so that
    the restored content is compared with them, not with the revision's."""
    if not raw or instance.pk is None:
        return
    current = Article.objects.filter(pk=instance.pk).values("content_digest", "updated_at").first()
    if current and current["content_digest"]:
        instance.content_digest = current["content_digest"]
        instance.updated_at = current["updated_at"]


def next_scheduled_publication():
    """When the next scheduled article goes live, or None (PAGE_CACHE_SCOPES asks)."""
    upcoming = Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
    return upcoming.order_by("published_at").values_list("published_at", flat=True).first()


# The version of what code, not a template, stores for structured data (SideEffect.outline(),
# Author.outline(), Reference.outline(), Topic.outline(), the editorial outline, the JSON-LD of
# articles.structured_data.stored_json_ld): raise it with any change to what they store, so
# that the next deploy stores every article's outlines again.
OUTLINE_FORMAT = 4


@lru_cache(maxsize=1)
def content_revision():
    """A digest of the templates that Article.content_html and header_html are rendered
    with (images' included), of the OUTLINE_FORMAT of the outlines stored beside them, and
    of MEDIA_URL, which the stored pictures' addresses start with.

    An article whose stored content was rendered by another version of the templates or
    outlines (a deploy changed them) is rendered again by `manage.py refresh_article_content`.
    """
    digest = hashlib.sha256()
    for name in (CONTENT_TEMPLATE, HEADER_TEMPLATE, REFERENCES_TEMPLATE, PICTURE_TEMPLATE, FIGURE_TEMPLATE):
        digest.update(get_template(name).template.source.encode())
    digest.update(f"outline format {OUTLINE_FORMAT}".encode())
    digest.update(f"images at {settings.MEDIA_URL}".encode())  # the addresses of stored pictures
    return digest.hexdigest()[:16]


def content_part_lookups():
    """The prefetches Article.content_parts() reads."""
    from articles.models.editorial import ArticleAuthor, Reference, Review

    return [
        "featured_image",
        Prefetch("side_effects", queryset=SideEffect.objects.select_related("image")),
        Prefetch("references", queryset=Reference.objects.select_related("side_effect")),
        Prefetch("author_links", queryset=ArticleAuthor.objects.select_related("author")),
        Prefetch(
            "reviews",
            queryset=Review.objects.approved().select_related("reviewer"),
            to_attr="approved_reviews",
        ),
        "topics",
    ]


class ContentParts(NamedTuple):
    side_effects: list
    references: list
    authors: list
    approved_reviews: list  # latest first
    topics: list


def content_parts_digest(article, side_effects, references):
    """A digest of what readers see of an article's content: its title, summary, body,
    side effects and references, and which images it shows. Layout, byline, comments and
    the review line are left out: a medical review checks the content, and "Updated" dates
    a change to it."""
    content = {
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "side_effects": [
            [
                effect.name,
                effect.description,
                effect.frequency,
                effect.duration,
                effect.cause,
                effect.advice,
                *([effect.image_id] if effect.image_id else []),
            ]
            for effect in side_effects
        ],
        "references": [reference.digest_fields() for reference in references],
    }
    # Images are part of what a review sees; added only when there are any, so that the
    # digests of articles without images stay what they were before images existed.
    if article.featured_image_id:
        content["featured_image"] = article.featured_image_id
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@receiver(setting_changed)
def forget_content_revision(setting, **kwargs):
    if setting in ("TEMPLATES", "MEDIA_URL"):
        content_revision.cache_clear()


# Articles whose refresh is put off to the end of a refresh_once() block.
_refreshing = OncePerBlock(
    "pending_refresh", lambda pks: Article.objects.filter(pk__in=pks).refresh_derived_fields()
)


def refresh_once():
    """Inside this block, saving side effects refreshes their article once, at the end.

    An admin save of an article with six side effects would otherwise render and
    index the article six times.
    """
    return _refreshing.block()


# Fields computed from the article and its side effects by refresh_derived_fields().
DERIVED_FIELDS = [
    "content_digest",
    "header_html",
    "editorial_outline",
    "reading_minutes",
    "search_document",
    "search_vector",
    "content_html",
    "content_revision",
    "side_effect_outline",
    "topic_outline",
    "related_terms",
    "image_outline",
    "structured_data",
]
# Ranked among other articles by articles.related, not from the article alone.
RELATED_FIELDS = ["related_outline"]


# History: a revision holds the article with its side effects, references and byline, so
# restoring one brings them back; reviews are not part of it. Derived fields are left out:
# they are recomputed when a revision is saved (and the comment count is recounted).
# Kept by the comments app (comments.models.recount_approved_comments), never by an edit.
COMMENT_COUNTS = ["approved_comment_count", "approved_top_level_count", "pinned_answer_count"]


@reversion.register(
    follow=["side_effects", "references", "author_links"],
    exclude=[*DERIVED_FIELDS, *RELATED_FIELDS, *COMMENT_COUNTS],
)
class Article(models.Model):
    """An article as editors write it (Markdown) with its rendered, sanitized HTML."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(
        max_length=200, help_text="The page heading, also used in search results, feeds and the browser tab."
    )
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The article's address: /articles/ followed by the slug. Once the article is "
        "published, changing it keeps the old address working: it redirects to the new one.",
    )
    summary = models.CharField(
        max_length=300,
        help_text="One or two sentences shown on the home page and to search engines (meta description).",
    )
    body = models.TextField(help_text=MARKDOWN_HELP)
    body_html = models.TextField(editable=False, default="")
    body_headings = models.JSONField(editable=False, default=list)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text="Drafts are visible only to staff, through “View on site”.",
    )
    published_at = models.DateTimeField(
        "publication date",
        default=timezone.now,
        help_text="A published article appears from this moment on: a future date schedules it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        "updated",
        default=timezone.now,
        editable=False,
        help_text="When what readers see last changed: the text, side effects or references. "
        "Closing a thread, or a save that changes nothing readers see, leaves it as it was.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        help_text="The staff account that first saved the article (not shown to readers).",
    )
    authors = models.ManyToManyField(
        "Author",
        through="ArticleAuthor",
        related_name="articles",
        blank=True,
        help_text="The byline, in order.",
    )
    topics = models.ManyToManyField(
        "Topic",
        related_name="articles",
        blank=True,
        help_text="The subjects it is filed under: the article links their pages and is listed on them.",
    )
    comments_open = models.BooleanField(
        default=True,
        help_text="Untick to close the comment thread: readers see “Comments are closed.” "
        "and no new comment is accepted. Approved comments stay visible.",
    )
    comments_close_at = models.DateTimeField(
        "close comments at",
        null=True,
        blank=True,
        help_text="Optional: the thread closes by itself at this moment.",
    )
    featured_image = models.ForeignKey(
        "images.Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="featured_on",
        help_text="Shown at the top of the article, as its thumbnail in lists and search results, "
        "and in link previews when the page is shared.",
    )

    # Kept up to date by refresh_derived_fields() whenever the article or a side effect changes.
    reading_minutes = models.PositiveSmallIntegerField(editable=False, default=1)
    search_document = models.TextField(editable=False, default="")
    search_vector = SearchVectorField(editable=False, null=True)
    # The page's content (contents, body, side effects) as HTML, rendered from
    # CONTENT_TEMPLATE at `content_revision`, and what structured data needs of the side
    # effects: a page view then reads one row and renders no side effect.
    content_html = models.TextField(editable=False, default="")
    content_revision = models.CharField(editable=False, max_length=32, default="")
    side_effect_outline = models.JSONField(editable=False, default=list)
    # A digest of what readers see of the content (see content_parts_digest()): a review
    # records the digest it saw, and `updated_at` moves only when the digest does.
    content_digest = models.CharField(editable=False, max_length=64, default="")
    # The byline and medical-review line, rendered from HEADER_TEMPLATE, and what lists,
    # feeds and structured data need of the authors, the review and the references.
    header_html = models.TextField(editable=False, default="")
    byline = models.JSONField(editable=False, default=list)
    editorial_outline = models.JSONField(editable=False, default=dict)
    # The topics as the page links them ([{name, slug}], Topic.outline()), and the related
    # articles as the page lists them, ranked when articles change (articles.related).
    topic_outline = models.JSONField(editable=False, default=list)
    related_outline = models.JSONField(editable=False, default=list)
    # The featured image as lists show it (`thumbnail`, <picture> markup) and as link previews
    # and structured data describe it (`preview`: url, width, height, type, alt); {} without one.
    image_outline = models.JSONField(editable=False, default=dict)
    # The page's JSON-LD, with holes for the page's address, the site's origin and the dates,
    # which the page view fills in (articles.structured_data.stored_json_ld).
    structured_data = models.TextField(editable=False, default="")
    # The words of the title and summary that related articles are ranked by (articles.related).
    related_terms = models.JSONField(editable=False, default=list)
    # How many approved comments the thread has: written only by the comments app, whenever
    # a comment changes (comments.models.recount_approved_comments), read with the page.
    approved_comment_count = models.PositiveIntegerField(editable=False, default=0)
    # Of those, the top-level ones (not replies): what the thread's pages are counted in; and
    # the pinned staff answers, shown at the top of the thread (none: no query for them).
    approved_top_level_count = models.PositiveIntegerField(editable=False, default=0)
    pinned_answer_count = models.PositiveIntegerField(editable=False, default=0)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="article_status_published"),
        ]
        # The GIN indexes for full-text and trigram search are PostgreSQL-only: see
        # migration 0004_search_indexes.

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        from articles.related import deferred_ranking  # it builds on these models

        self.body_html, self.body_headings = render_markdown_with_headings(self.body)
        update_fields = kwargs.get("update_fields")
        also_save_rendered(kwargs, "body", "body_html", "body_headings")
        with deferred_ranking():
            super().save(*args, **kwargs)
            if update_fields is None or {"title", "summary", "body"} & set(update_fields):
                self.refresh_derived_fields()

    def get_absolute_url(self):
        return slug_address("articles:detail", self.slug)

    def clean(self):
        try:
            check_inline_images(self.body)
        except ValidationError as error:
            raise ValidationError({"body": error}) from None

    @property
    def last_changed_at(self):
        """When readers last saw something new: publication, or a later change of content."""
        return max(self.published_at, self.updated_at)

    @property
    def updated_after_publication(self):
        """Whether the content changed on a later day than the article was published: the
        page then shows its "Updated" date."""
        return timezone.localdate(self.updated_at) > timezone.localdate(self.published_at)

    @property
    def is_published(self):
        """The same question as `Article.objects.published()`, for one loaded article."""
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    def search_texts(self, side_effects):
        """The article's text by search weight: A title, B summary and side-effect names,
        C body, D side-effect details."""
        details = [
            " ".join([strip_tags(effect.description_html), effect.frequency, effect.duration, effect.cause,
                      effect.advice])
            for effect in side_effects
        ]  # fmt: skip
        return {
            "A": self.title,
            "B": " ".join([self.summary, *(effect.name for effect in side_effects)]),
            "C": strip_tags(self.body_html),
            "D": " ".join(details),
        }

    def refresh_derived_fields(self, *, prefetched=False):
        """Store what search and the page need from the article and what belongs to it.

        Written with a queryset update, so it changes no history. `updated_at` moves only
        when the content digest changes (an unknown stored digest, from a bulk load or an
        older version, is not a change). Inside refresh_once(), only noted, and done when
        the block ends.
        """
        from articles.related import terms_of  # it builds on these models

        if _refreshing.defer([self.pk]):
            return
        if not prefetched:
            self.__dict__.pop("approved_reviews", None)  # rows prefetched earlier may have changed
        parts = self.content_parts()
        fields = self.derived_fields(parts)
        now = timezone.now()
        if self.content_digest and self.content_digest != fields["content_digest"]:
            self.updated_at = now
        for name, value in fields.items():
            setattr(self, name, value)
        if connection.vendor == "postgresql":
            vector = None
            for weight, text in self.search_texts(parts.side_effects).items():
                part = SearchVector(models.Value(text, output_field=models.TextField()), weight=weight,
                                    config=SEARCH_CONFIG)  # fmt: skip
                vector = part if vector is None else vector + part
            fields["search_vector"] = vector
        # What related articles are ranked by: the database's full-text lexemes on PostgreSQL.
        fields["related_terms"] = terms_of(self.title, self.summary)
        # Decided in the database, so that two processes saving at once agree.
        fields["updated_at"] = Case(
            When(Q(content_digest="") | Q(content_digest=fields["content_digest"]), then=F("updated_at")),
            default=Value(now),
        )
        Article.objects.filter(pk=self.pk).update(**fields)
        ArticleImage.link(self, image_ids_shown(self, parts.side_effects))

    def content_parts(self):
        """What the page shows besides the article's own fields: from the rows prefetched
        with content_part_lookups() when the queryset has them, else fetched now (into a
        copy, so that no caller's instance keeps rows that may change)."""
        source = self
        if not hasattr(self, "approved_reviews"):
            source = copy.copy(self)
            source._prefetched_objects_cache = {}
            prefetch_related_objects([source], *content_part_lookups())
        return ContentParts(
            side_effects=list(source.side_effects.all()),
            references=list(source.references.all()),
            authors=[link.author for link in source.author_links.all()],
            approved_reviews=list(source.approved_reviews),
            topics=list(source.topics.all()),
        )

    def derived_fields(self, parts):
        """{field: value} of what refresh_derived_fields() stores, the search vector aside."""
        document = "\n".join(self.search_texts(parts.side_effects).values())
        digest = content_parts_digest(self, parts.side_effects, parts.references)
        citations = cite_references(
            self.body_html, [effect.description_html for effect in parts.side_effects], parts.references
        )
        for effect, html in zip(parts.side_effects, citations.side_effect_htmls, strict=True):
            effect.cited_description_html = html
        # The review that describes the page: one that saw this very content (after a
        # restore, perhaps not the latest), else the latest, to say the content changed since.
        review = next(
            (review for review in parts.approved_reviews if review.content_digest == digest),
            next(iter(parts.approved_reviews), None),
        )
        review_context = None
        if review is not None:
            review_context = {
                "review": review,
                "content_changed": review.content_digest != digest,
                "next_review_due": review.reviewed_at + review_interval(),
            }
        featured = self.featured_image if self.featured_image_id else None
        for effect in parts.side_effects:
            effect.image_html = (
                figure_html(effect.image) if effect.image_id and effect.image.renditions else ""
            )
        derived = {
            "image_outline": {
                "thumbnail": picture_html(featured, sizes=THUMBNAIL_SIZES, largest_width=480),
                "preview": preview_outline(featured),
            }
            if featured and featured.renditions
            else {},
            "search_document": document,
            "reading_minutes": max(1, math.ceil(len(document.split()) / WORDS_PER_MINUTE)),
            "content_html": render_to_string(
                CONTENT_TEMPLATE,
                {
                    "article": self,
                    "body_html": citations.body_html,
                    "featured_image_html": figure_html(featured, priority=True)
                    if featured and featured.renditions
                    else "",
                    "side_effects": parts.side_effects,
                    "references": citations.entries,
                },
            ),
            "content_revision": content_revision(),
            "side_effect_outline": [effect.outline() for effect in parts.side_effects],
            "content_digest": digest,
            "header_html": render_to_string(
                HEADER_TEMPLATE, {"authors": parts.authors, "medical_review": review_context}
            ),
            "byline": [author.outline() for author in parts.authors],
            "topic_outline": [topic.outline() for topic in parts.topics],
            "editorial_outline": {
                "review": None
                if review is None
                else {
                    "reviewer": review.reviewer.outline(),
                    "reviewed_on": timezone.localdate(review.reviewed_at).isoformat(),
                    "content_changed": review_context["content_changed"],
                },
                "citations": [entry.reference.outline() for entry in citations.entries],
            },
        }
        derived["structured_data"] = stored_json_ld(self, derived)
        return derived

    def current_revision(self):
        """(digest, version): the digest of the content as the database holds it now, and
        the article's latest saved revision (django-reversion), or None. What a review saw."""
        article = Article.objects.get(pk=self.pk)
        parts = article.content_parts()
        version = Version.objects.get_for_object(article).first()
        return content_parts_digest(article, parts.side_effects, parts.references), version

    def show_current_content(self):
        """Render the stored content in memory when it came from another template version
        (or was never rendered: articles loaded in bulk), writing nothing.

        `manage.py refresh_article_content`, run at each deploy after `migrate`, stores it
        again; until it has run, pages stay right at the cost of a render.
        """
        if self.content_revision == content_revision():
            return
        logger.warning("Article %s was rendered by another template: run refresh_article_content", self.pk)
        article = Article.objects.get(pk=self.pk)  # with every field the rendering needs
        for name, value in article.derived_fields(article.content_parts()).items():
            if name not in self.get_deferred_fields():
                setattr(self, name, value)


class ArticlePartQuerySet(RenderedOnUpdateQuerySet):
    """Rows an article page shows (side effects, references, reviews, byline entries): a bulk
    update stores their articles' content again, which retires the pages that show it."""

    def update(self, **fields):
        article_ids = set(self.values_list("article_id", flat=True))
        moved_to = fields.get("article", fields.get("article_id"))
        if moved_to is not None:
            article_ids.add(getattr(moved_to, "pk", moved_to))
        updated = super().update(**fields)
        Article.objects.filter(pk__in=article_ids).refresh_derived_fields()
        return updated


class SideEffectQuerySet(ArticlePartQuerySet):
    markdown_fields = ("description",)


@reversion.register()
class SideEffect(models.Model):
    """One side effect of an article, shown as its own section and as a row of the summary table."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="side_effects")
    name = models.CharField(max_length=100, help_text="Shown as the section heading.")
    description = models.TextField(help_text=MARKDOWN_HELP)
    description_html = models.TextField(editable=False, default="")
    frequency = models.CharField(
        "how common", max_length=100, help_text="Short, for the summary table: e.g. “Common”."
    )
    duration = models.CharField(
        "how long it lasts",
        max_length=100,
        blank=True,
        help_text="Short, for the summary table; leave empty when not known.",
    )
    cause = models.TextField(blank=True, help_text="Plain text: what causes it.")
    advice = models.TextField(
        "what to do", blank=True, help_text="Plain text, short: shown in the summary table."
    )
    order = models.PositiveIntegerField(
        default=0, help_text="Side effects are shown from the lowest number to the highest."
    )
    image = models.ForeignKey(
        "images.Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="side_effects_showing",
        help_text="Optional: a picture of it, shown in its section with its caption.",
    )

    objects = SideEffectQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "name"], name="side_effect_unique_name"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.description_html = render_markdown(self.description)
        also_save_rendered(kwargs, "description", "description_html")
        super().save(*args, **kwargs)
        self.article.refresh_derived_fields()

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#{self.anchor}"

    def clean(self):
        try:
            check_inline_images(self.description)
        except ValidationError as error:
            raise ValidationError({"description": error}) from None

    def outline(self):
        """What the article's structured data says about this side effect: its facts in one
        readable sentence, labelled as the page's summary table labels them."""
        facts = {"How common": self.frequency, "How long it lasts": self.duration, "What to do": self.advice}
        summary = " ".join(f"{label}: {as_sentence(fact)}" for label, fact in facts.items() if fact.strip())
        return {"name": self.name, "anchor": self.anchor, "summary": summary}

    @property
    def anchor(self):
        """The id of this side effect's heading, so the table and other pages can link to it."""
        return slugify(self.name, allow_unicode=True) or f"side-effect-{self.pk}"


def as_sentence(text):
    """`text` ending as a sentence does: "Keep it clean" becomes "Keep it clean."."""
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def deleted_with_its_article(origin):
    """Whether a post_delete comes from deleting an article (then there is nothing to refresh)."""
    return isinstance(origin, Article) or (
        isinstance(origin, models.QuerySet) and issubclass(origin.model, Article)
    )


def article_part_changed(sender, instance, origin=None, **kwargs):
    """post_save/post_delete receiver of the rows an article page shows (a side effect
    deleted on its own, a reference, a review, a byline entry): store the article's content
    again. A signal, so that queryset deletes refresh too; not when the row goes because
    its article is being deleted."""
    if origin is not None and deleted_with_its_article(origin):
        return
    Article.objects.filter(pk=instance.article_id).refresh_derived_fields()


class ArticleImage(models.Model):
    """An image an article's page shows (featured, a side effect's, or embedded in the text),
    stored when the article's content is: what the image library lists as "used on", and
    what keeps a shown image from being deleted."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="image_links")
    image = models.ForeignKey("images.Image", on_delete=models.PROTECT, related_name="article_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "image"], name="article_image_unique")]
        verbose_name = "image shown"

    def __str__(self):
        return f"{self.image} on “{self.article}”"

    @classmethod
    def link(cls, article, image_ids):
        """Record that `article` shows exactly the images `image_ids` (those that exist)."""
        linked = set(cls.objects.filter(article=article).values_list("image_id", flat=True))
        if linked == image_ids:
            return
        cls.objects.filter(article=article).exclude(image_id__in=image_ids).delete()
        from images.models import Image

        existing = set(Image.objects.filter(pk__in=image_ids - linked).values_list("pk", flat=True))
        cls.objects.bulk_create([cls(article=article, image_id=pk) for pk in existing], ignore_conflicts=True)
