"""How readers find their way: topics, the related articles stored with each article,
redirects that keep old addresses working, and the missing paths readers asked for."""

import re

import reversion
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import Resolver404, resolve

from articles.addresses import slug_address
from articles.markdown import render_markdown
from articles.models.article import (
    MARKDOWN_HELP,
    Article,
    RenderedOnUpdateQuerySet,
    also_save_rendered,
    article_pages_changed,
)
from articles.models.site_page import SitePage


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
        return slug_address("articles:topic", self.slug)

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
    # Its score when it was ranked: what an article entering the list must beat.
    shared_topics = models.PositiveSmallIntegerField(default=0)
    similarity = models.FloatField(default=0.0)

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


# A path under an article's address (/articles/<slug>/<rest>): the article's redirect answers
# it too, with <rest> kept, so any page under a renamed article follows it.
UNDER_ARTICLE = re.compile(r"^(?P<article>/articles/[^/]+/)(?P<rest>.+)$")
ARTICLE_ADDRESS = re.compile(r"^/articles/[^/]+/$")
# More hops than any honest chain of redirects has: a loop saved around the rules stops here.
MAX_HOPS = 10


def is_full_url(target):
    return target.startswith(("https://", "http://"))


class RedirectQuerySet(models.QuerySet):
    def answering(self, path, query_string=""):
        """The redirect readers get at `path` (a path of the site, without the script prefix)
        asked with `query_string`, and where it sends them: (redirect, location), or None.

        One query looks up the path with its query string, the path alone, and for
        /articles/<slug>/<rest> the article's address; the most specific one answers.
        """
        candidates = redirect_candidates(path, query_string)
        found = {redirect.old_path: redirect for redirect in self.filter(old_path__in=candidates)}
        return pick_redirect(candidates, found)

    def leading_through(self, path):
        """Redirects whose target may pass through `path` (the path itself, with an anchor or
        a query string, or under it): those that must follow it when it changes."""
        return self.filter(new_path__startswith=path)


def redirect_candidates(path, query_string):
    """{old_path: (rest to append, query string to keep)}, most specific first."""
    candidates = {}
    if query_string:
        candidates[f"{path}?{query_string}"] = ("", "")  # asked for as it is: nothing to add
    candidates[path] = ("", query_string)
    under_article = UNDER_ARTICLE.match(path)
    if under_article:
        candidates[under_article["article"]] = (under_article["rest"], query_string)
    return candidates


def pick_redirect(candidates, found):
    for old_path, (rest, query_string) in candidates.items():
        redirect = found.get(old_path)
        if redirect is not None:
            return redirect, redirect.location(rest, query_string)
    return None


class Redirect(models.Model):
    """An old address of the site and where it leads now, or that it is gone for good (410).

    Made by the site when a published article's slug changes, or by editors by hand. A
    redirect answers only where the site itself has no page: an article that takes an
    old address wins over it. Saved, it leads straight to the end of any chain, and the
    redirects that led to its old address lead where it leads: there is never a chain.
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

    objects = RedirectQuerySet.as_manager()

    class Meta:
        ordering = ["old_path"]

    def __str__(self):
        return f"{self.old_path} → {self.new_path or '410 Gone'}"

    def save(self, *args, **kwargs):
        """Save it leading to the end of any chain; the redirects that led to its old address
        follow it; the paths it answers leave the 404 report."""
        target, looped = self.followed_target()
        if not looped:
            self.new_path = target
        with transaction.atomic():
            super().save(*args, **kwargs)
            for other in Redirect.objects.leading_through(self.old_path).exclude(pk=self.pk):
                target, looped = other.followed_target()
                if looped:
                    other.delete()  # it led back to its own address: it could never answer
                elif target != other.new_path:
                    Redirect.objects.filter(pk=other.pk).update(new_path=target)
            answered = models.Q(path=self.old_path)
            if ARTICLE_ADDRESS.match(self.old_path):
                answered |= models.Q(path__startswith=self.old_path)
            MissingPath.objects.filter(answered).delete()

    def clean(self):
        super().clean()
        try:
            validate_site_path(self.old_path)
            validate_target(self.new_path)
        except ValidationError:
            return  # the fields' own validators name the problem
        if self.new_path == self.old_path:
            raise ValidationError({"new_path": "The new address is the old address: it would never end."})
        if self.old_path.startswith(("/admin/", "/static/", "/media/")):
            raise ValidationError({"old_path": "The admin and static files are never redirected."})
        page = page_living_at(self.old_path)
        if page:
            raise ValidationError(
                {"old_path": f"{page} lives at this address: readers get it, so this redirect would "
                             "never answer. Change that article's slug (or withdraw it) first."}
            )  # fmt: skip
        if self.followed_target()[1]:
            raise ValidationError(
                {"new_path": f"This would loop: {self.new_path} already leads back to {self.old_path} "
                             "through the redirects saved. Change or delete those first."}
            )  # fmt: skip

    @property
    def is_gone(self):
        return not self.new_path

    def location(self, rest="", query_string=""):
        """Where this redirect sends a request for its old address followed by `rest`, asked
        with `query_string` (kept, so ?page=N of a comment thread survives); "" when gone.

        `rest` is appended to a target of this site ending in "/"; a full URL is sent as
        given. A fragment (#side-effect) is not sent by browsers: they keep the one they
        asked for when the target has none.
        """
        if self.is_gone or is_full_url(self.new_path):
            return self.new_path
        target, hash_mark, fragment = self.new_path.partition("#")
        if rest and target.endswith("/"):
            target += rest.lstrip("/\\")  # a leading slash or backslash would make "//host": another site
        if query_string:
            target += ("&" if "?" in target else "?") + query_string
        return target + hash_mark + fragment

    def followed_target(self):
        """Where `new_path` leads once the redirects saved (and this one) are followed, as
        readers' requests would: (target, looped). A gone address or a full URL ends the way."""
        target, seen = self.new_path, [self.old_path]
        for _ in range(MAX_HOPS):
            if not target or is_full_url(target):
                return target, False
            path, _, fragment = target.partition("#")
            path, _, query_string = path.partition("?")
            candidates = redirect_candidates(path, query_string)
            found = {
                redirect.old_path: redirect for redirect in Redirect.objects.filter(old_path__in=candidates)
            }
            if self.old_path in candidates:
                found[self.old_path] = self
            answer = pick_redirect(candidates, found)
            if answer is None or answer[0].is_gone:
                return target, False
            redirect, location = answer
            if redirect.old_path in seen:
                return target, True
            seen.append(redirect.old_path)
            target = location if "#" in location or not fragment else f"{location}#{fragment}"
        return target, True


def page_living_at(path):
    """The page readers get at `path` (a published article, or a page of the site with a
    fixed address such as the home page), described for an editor; None when none does."""
    address = path.partition("?")[0]
    try:
        match = resolve(address)
    except Resolver404:
        return None
    if match.view_name == "articles:detail":
        article = Article.objects.filter(slug=match.kwargs["slug"], status=Article.Status.PUBLISHED).first()
        if article is None:
            return None
        return f"The {'published' if article.is_published else 'scheduled'} article “{article.title}”"
    if match.view_name == "articles:site_page":
        page = SitePage.objects.filter(slug=match.kwargs["slug"]).first()
        return f"The site page “{page}”" if page else None
    if not match.kwargs:
        return "A page of the site"
    return None


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
