"""Who wrote and who reviewed an article, and the sources it cites."""

import reversion
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.utils import timezone

from articles.addresses import slug_address
from articles.citations import CITATION_KEY, DOI, PMID
from articles.markdown import render_markdown
from articles.models.article import (
    MARKDOWN_HELP,
    Article,
    ArticlePartQuerySet,
    RenderedOnUpdateQuerySet,
    SideEffect,
    also_save_rendered,
    article_pages_changed,
)


def byline_changed(sender, instance, action, reverse, pk_set=None, **kwargs):
    """m2m_changed receiver of Article.authors (article.authors.add(...), author.articles.clear()...)."""
    if reverse and action == "pre_clear":  # author.articles.clear(): note which articles lose the author
        instance._cleared_article_ids = list(Article.objects.by_author(instance).values_list("pk", flat=True))
    if not action.startswith("post_"):
        return
    if not reverse:
        article_ids = [instance.pk]
    elif action == "post_clear":
        article_ids = instance.__dict__.pop("_cleared_article_ids", [])
    else:
        article_ids = pk_set or []
    Article.objects.filter(pk__in=article_ids).refresh_derived_fields()


class AuthorQuerySet(RenderedOnUpdateQuerySet):
    markdown_fields = ("bio",)

    def update(self, **fields):
        """Update the authors and render again every page that shows them."""
        pks = list(self.values_list("pk", flat=True))
        updated = super().update(**fields)
        Article.objects.showing_authors(pks).refresh_derived_fields()
        article_pages_changed()
        return updated


class Author(models.Model):
    """Who writes or medically reviews articles: a person with credentials, or an organization."""

    name = models.CharField(max_length=200, help_text="As readers see it in a byline.")
    slug = models.SlugField(
        max_length=200, unique=True, help_text="The profile's address: /authors/ followed by the slug."
    )
    credentials = models.CharField(
        max_length=200,
        blank=True,
        help_text="Qualifications as readers should see them, e.g. “MD, dermatologist”. "
        "Shown beside the name wherever it appears.",
    )
    bio = models.TextField(blank=True, help_text=MARKDOWN_HELP)
    bio_html = models.TextField(editable=False, default="")
    is_organization = models.BooleanField(
        "organization", default=False, help_text="Tick for a team or organization rather than a person."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author_profile",
        help_text="The staff account acting as this author: it records reviews under this name "
        "and receives the review requests for articles in this byline.",
    )

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    def save(self, *args, **kwargs):
        self.bio_html = render_markdown(self.bio)
        also_save_rendered(kwargs, "bio", "bio_html")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return slug_address("articles:author", self.slug)

    def outline(self):
        """What bylines, feeds and structured data show of this author."""
        return {
            "name": self.name,
            "slug": self.slug,
            "credentials": self.credentials,
            "is_organization": self.is_organization,
        }


def author_saved(sender, instance, **kwargs):
    """post_save receiver: every page that shows the author (bylines, review lines, the
    profile) is rendered again."""
    Article.objects.showing_authors([instance.pk]).refresh_derived_fields()
    article_pages_changed()


@reversion.register()
class ArticleAuthor(models.Model):
    """One name in an article's byline."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="author_links")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="article_links")
    order = models.PositiveIntegerField(default=0)

    objects = ArticlePartQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "byline entry"
        verbose_name_plural = "byline"
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="article_author_once"),
        ]

    def __str__(self):
        return self.author.name


class ReviewQuerySet(ArticlePartQuerySet):
    def approved(self):
        """Approved reviews, latest first."""
        return self.filter(outcome=Review.Outcome.APPROVED).order_by("-reviewed_at", "-pk")


@reversion.register()
class Review(models.Model):
    """A medical review of an article as it stood: it records the content digest it saw.

    A review never changes the article. If the content changes afterwards, the review
    still stands for the content it saw, and the page says the article was updated since.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.TextField(
        blank=True, help_text="What you checked, or what must change. Emailed to the authors and "
        "editors when you request changes."
    )  # fmt: skip
    reviewed_at = models.DateTimeField("reviewed", default=timezone.now)
    content_digest = models.CharField(
        "content reviewed",
        max_length=64,
        editable=False,
        help_text="The digest of the content this review saw.",
    )
    version = models.ForeignKey(
        "reversion.Version",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The article's saved revision that this review saw, when there is one.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        indexes = [models.Index(fields=["article", "outcome", "-reviewed_at"], name="review_latest")]

    def __str__(self):
        return f"{self.get_outcome_display()} by {self.reviewer.name} on {self.reviewed_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.content_digest:
            self.content_digest, self.version = self.article.current_revision()
        super().save(*args, **kwargs)

    @property
    def saw_current_content(self):
        return self.content_digest == self.article.content_digest


PMID_VALIDATOR = RegexValidator(PMID, "A PubMed ID (PMID) is a number of up to 8 digits, e.g. 12345678.")
DOI_VALIDATOR = RegexValidator(DOI, "A DOI starts with “10.”, then a registrant code, a slash and a suffix, "
                               "e.g. 10.1000/xyz123.")  # fmt: skip
KEY_VALIDATOR = RegexValidator(
    rf"^{CITATION_KEY}\Z",
    "A key is letters and digits, joined by single . _ : or - (e.g. smith2020 or who:2019-a); "
    "cite it in the text as [@smith2020].",
)


def normalize_doi(value):
    """A DOI as stored: without the https://doi.org/ or doi: prefix editors often paste."""
    value = value.strip()
    for prefix in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ):
        if value.lower().startswith(prefix):
            return value[len(prefix) :].strip()
    return value


@reversion.register()
class Reference(models.Model):
    """A source an article cites as [@key]: listed, numbered, under "References"."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    side_effect = models.ForeignKey(
        SideEffect,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="references",
        help_text="Optional: the side effect of this article that this source is about.",
    )
    key = models.CharField(
        max_length=50,
        validators=[KEY_VALIDATOR],
        help_text="Cite it in the text as [@key], e.g. [@smith2020].",
    )
    authors = models.CharField(max_length=500, blank=True, help_text="e.g. “Smith J, Jones A”.")
    title = models.CharField(max_length=500)
    publisher = models.CharField("journal or publisher", max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1500), MaxValueValidator(2200)]
    )
    url = models.URLField(
        "URL", max_length=1000, blank=True, validators=[URLValidator(schemes=["http", "https"])],
        help_text="An http:// or https:// address.",
    )  # fmt: skip
    doi = models.CharField(
        "DOI", max_length=200, blank=True, validators=[DOI_VALIDATOR], help_text="e.g. 10.1000/xyz123"
    )
    pmid = models.CharField(
        "PMID", max_length=8, blank=True, validators=[PMID_VALIDATOR], help_text="PubMed ID"
    )
    accessed_on = models.DateField(
        "accessed", null=True, blank=True, help_text="When you last read the source online."
    )
    order = models.PositiveIntegerField(default=0, help_text="Uncited sources are listed in this order.")

    objects = ArticlePartQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["article", "key"], name="reference_unique_key")]

    def __str__(self):
        return f"[@{self.key}] {self.title}"

    def clean_fields(self, exclude=None):
        # Before the DOI is validated: a pasted https://doi.org/ link or doi: prefix is fine.
        self.doi = normalize_doi(self.doi)
        super().clean_fields(exclude)

    def clean(self):
        if self.side_effect_id and self.article_id and self.side_effect.article_id != self.article_id:
            raise ValidationError({"side_effect": "Choose a side effect of this article."})
        if self.year and self.year > timezone.now().year + 1:
            raise ValidationError({"year": "The year is in the future."})

    def digest_fields(self):
        side_effect = self.side_effect.name if self.side_effect_id else ""
        accessed = self.accessed_on.isoformat() if self.accessed_on else ""
        return [self.key, self.authors, self.title, self.publisher, self.year, self.url, self.doi, self.pmid,
                accessed, side_effect]  # fmt: skip

    @property
    def doi_url(self):
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self):
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    def outline(self):
        """What the article's structured data says of this source (schema.org CreativeWork)."""
        work = {"@type": "CreativeWork", "name": self.title}
        if self.authors:
            work["author"] = self.authors
        if self.publisher:
            work["publisher"] = self.publisher
        if self.year:
            work["datePublished"] = str(self.year)
        if self.url:
            work["url"] = self.url
        same_as = [link for link in (self.doi_url, self.pubmed_url) if link]
        if same_as:
            work["sameAs"] = same_as
        return work


class ReviewReminder(models.Model):
    """A day on which send_review_reminders emailed the reviewers: once a day at most."""

    sent_on = models.DateField(unique=True)
    article_count = models.PositiveIntegerField()
    recipient_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-sent_on"]

    def __str__(self):
        return f"Review reminder of {self.sent_on}"
