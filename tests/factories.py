"""factory_boy factories: a published article with side effects in one line."""

import time
from datetime import timedelta
from importlib import import_module

import factory
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.utils import timezone

from articles.models import Article, Author, Reference, Review, SideEffect, Topic
from comments.forms import make_form_token
from comments.models import Comment

PASSWORD = "correct horse battery staple"  # every factory user's


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if create and names:
            self.groups.add(*Group.objects.filter(name__in=names))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Article number {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "A short summary for readers and search engines."
    body = "An introduction with a [link](/articles/elsewhere/).\n\n- one\n- two"
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    @factory.post_generation
    def side_effects(self, create, count, **kwargs):
        """`ArticleFactory(side_effects=3)` adds three side effects in order."""
        if create and count:
            SideEffectFactory.create_batch(count, article=self)

    @factory.post_generation
    def topics(self, create, topics, **kwargs):
        """`ArticleFactory(topics=[aftercare, risks])` files it under those topics."""
        if create and topics:
            self.topics.add(*topics)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    summary = factory.LazyAttribute(lambda topic: f"Everything about {topic.name.lower()}.")
    description = factory.LazyAttribute(lambda topic: f"Articles about **{topic.name.lower()}**.")


class SideEffectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SideEffect

    article = factory.SubFactory(ArticleFactory)
    name = factory.Sequence(lambda n: f"Side effect {n}")
    description = "What it is, in **Markdown**."
    frequency = "Common"
    duration = "A day or two"
    cause = "Why it happens."
    advice = "What to do about it."
    order = factory.Sequence(lambda n: n)


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Writer {n}")
    slug = factory.Sequence(lambda n: f"writer-{n}")
    credentials = "MD, dermatologist"
    bio = "Writes about the *skin*."


class ReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reference

    article = factory.SubFactory(ArticleFactory)
    key = factory.Sequence(lambda n: f"source{n}")
    authors = "Doe J, Roe R"
    title = factory.Sequence(lambda n: f"A study of pigment number {n}")
    publisher = "Journal of Examples"
    year = 2020
    url = "https://example.org/study"
    order = factory.Sequence(lambda n: n)


class ReviewFactory(factory.django.DjangoModelFactory):
    """A review of the article as it stands when the review is created."""

    class Meta:
        model = Review

    article = factory.SubFactory(ArticleFactory)
    reviewer = factory.SubFactory(AuthorFactory, name="Dr Ada Reviewer", slug="ada-reviewer")
    outcome = Review.Outcome.APPROVED
    note = "Checked against current guidance."


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    article = factory.SubFactory(ArticleFactory)
    author_name = factory.Sequence(lambda n: f"Reader {n}")
    author_email = factory.LazyAttribute(lambda c: f"{c.author_name.lower().replace(' ', '')}@example.org")
    body = factory.Sequence(lambda n: f"Comment number {n}.")
    status = Comment.Status.APPROVED
    ip_address = "192.0.2.10"
    user_agent = "Mozilla/5.0 (test)"


def comment_form_data(article, seconds_ago=30, client=None, **overrides):
    """What a reader's browser sends: the three fields plus the form's own anti-spam fields.

    The form token is bound to the CSRF cookie of `client` (a test client), if it has one, as the
    page would have bound it; else to a browser without a CSRF cookie.
    """
    data = {
        "author_name": "Sam Reader",
        "author_email": "sam@example.org",
        "body": "Thanks, this helped me prepare for my first session.",
        "honeypot": "",
        "form_token": make_form_token(article, browser_request(client), issued_at=time.time() - seconds_ago),
    }
    data.update(overrides)
    return data


def browser_request(client):
    """A request from the browser of `client` as the CSRF middleware sees it, or None without a cookie."""
    cookie = client.cookies.get(settings.CSRF_COOKIE_NAME) if client is not None else None
    if cookie is None:
        return None
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = cookie.value
    return request


def post_comment(client, article, request=None, **fields):
    """POST the comment form of `article` as a reader's browser does (`fields` override its data);
    `request` holds extra request arguments (REMOTE_ADDR=..., follow=True)."""
    return client.post(
        f"/articles/{article.slug}/comments/",
        comment_form_data(article, client=client, **fields),
        **(request or {}),
    )


def admin_comment_form_data(comment, **overrides):
    """The admin's comment change form as a moderator sends it."""
    data = {
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "body": comment.body,
        "status": comment.status,
    }
    data.update(overrides)
    return data


def ensure_roles():
    """Make the Editors, Moderators and Reviewers groups again if a transactional test
    flushed them.

    They come from data migrations; tests on a transactional database empty every table.
    """
    if Group.objects.filter(name__in=["Editors", "Moderators", "Reviewers"]).count() == 3:
        return
    import_module("articles.migrations.0002_create_roles").create_roles(apps, None)
    import_module("comments.migrations.0002_moderation_roles").grant(apps, None)
    reviewers = import_module("articles.migrations.0008_create_reviewers_and_editorial_permissions")
    reviewers.create_roles(apps, None)
    import_module("articles.migrations.0011_navigation_permissions").grant_permissions(apps, None)
    import_module("articles.migrations.0015_image_permissions").grant_permissions(apps, None)
    import_module("comments.migrations.0012_personal_data_permissions").grant(apps, None)
    import_module("comments.migrations.0014_answer_permissions").grant(apps, None)


def admin_article_form_data(article=None, **overrides):
    """The admin article form as an editor's browser sends it, side effects inline.

    With `article`: its change page as it stands, its side effects in their order. Without: the
    add page filled in for a new article, "Healing after SMP" (published today), with two side
    effects, "Redness" (order 2) and "Itchy scalp" (order 1).
    """
    if article is None:
        data = {
            "title": "Healing after SMP",
            "slug": "healing-after-smp",
            "summary": "What the first days look like.",
            "body": "## First days\n\nSome *redness* is normal.",
            "status": "published",
            "published_at_0": timezone.localtime().strftime("%Y-%m-%d"),
            "published_at_1": "00:00:00",
        }
        effects = [
            {
                "name": "Redness",
                "order": "2",
                "frequency": "Most common",
                "duration": "One to two days",
                "description": "The skin looks **red**.",
                "cause": "Needles perforate the skin.",
                "advice": "Nothing; it heals by itself.",
            },
            {
                "name": "Itchy scalp",
                "order": "1",
                "frequency": "Common",
                "duration": "",
                "description": "Itching while it heals.",
                "cause": "Scabs and dry patches.",
                "advice": "Let it heal.",
            },
        ]
        saved_effects = 0
    else:
        published_at = timezone.localtime(article.published_at)
        data = {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary,
            "body": article.body,
            "status": article.status,
            "published_at_0": published_at.strftime("%Y-%m-%d"),
            "published_at_1": published_at.strftime("%H:%M:%S"),
            "topics": [str(pk) for pk in article.topics.values_list("pk", flat=True)],
        }
        effects = [
            {
                "id": str(effect.pk),
                "article": str(article.pk),
                "name": effect.name,
                "order": str(effect.order),
                "frequency": effect.frequency,
                "duration": effect.duration,
                "description": effect.description,
                "cause": effect.cause,
                "advice": effect.advice,
            }
            for effect in article.side_effects.all()
        ]
        saved_effects = len(effects)
    data.update(
        {
            "comments_open": "on",
            "comments_close_at_0": "",
            "comments_close_at_1": "",
            "side_effects-TOTAL_FORMS": str(len(effects)),
            "side_effects-INITIAL_FORMS": str(saved_effects),
            "side_effects-MIN_NUM_FORMS": "0",
            "side_effects-MAX_NUM_FORMS": "1000",
        }
    )
    for index, effect in enumerate(effects):
        data.update({f"side_effects-{index}-{field}": value for field, value in effect.items()})
    bylines = list(article.author_links.all()) if article is not None else []
    references = list(article.references.all()) if article is not None else []
    byline_rows = [
        {
            "id": str(link.pk),
            "article": str(link.article_id),
            "author": str(link.author_id),
            "order": str(link.order),
        }
        for link in bylines
    ]
    data.update(inline_form_data("author_links", byline_rows))
    data.update(inline_form_data("references", [reference_form_row(reference) for reference in references]))
    data.update(overrides)
    return data


def inline_form_data(prefix, rows, saved=None):
    """An admin inline as the browser sends it: its management form and `rows` (dicts of
    field: value, the first `saved` of them already stored; by default those with an id)."""
    saved = sum(1 for row in rows if row.get("id")) if saved is None else saved
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(saved),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{field}": value for field, value in row.items()})
    return data


def reference_form_row(reference=None, **fields):
    """One row of the article admin's references inline: `reference` as stored, or new `fields`."""
    row = {"key": "", "order": "0", "authors": "", "title": "", "publisher": "", "year": "", "url": "",
           "doi": "", "pmid": "", "accessed_on": "", "side_effect": ""}  # fmt: skip
    if reference is not None:
        row.update({
            "id": str(reference.pk), "article": str(reference.article_id), "key": reference.key,
            "order": str(reference.order), "authors": reference.authors, "title": reference.title,
            "publisher": reference.publisher, "year": str(reference.year or ""), "url": reference.url,
            "doi": reference.doi, "pmid": reference.pmid,
            "accessed_on": reference.accessed_on.isoformat() if reference.accessed_on else "",
            "side_effect": str(reference.side_effect_id or ""),
        })  # fmt: skip
    row.update(fields)
    return row
