"""factory_boy factories: a published article with side effects in one line."""

import time
from datetime import timedelta
from importlib import import_module

import factory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from articles.models import Article, SideEffect
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


def comment_form_data(article, seconds_ago=30, **overrides):
    """What a reader's browser sends: the three fields plus the form's own anti-spam fields."""
    data = {
        "author_name": "Sam Reader",
        "author_email": "sam@example.org",
        "body": "Thanks, this helped me prepare for my first session.",
        "honeypot": "",
        "form_token": make_form_token(article, issued_at=time.time() - seconds_ago),
    }
    data.update(overrides)
    return data


def post_comment(client, article, request=None, **fields):
    """POST the comment form of `article` as a reader's browser does (`fields` override its data);
    `request` holds extra request arguments (REMOTE_ADDR=..., follow=True)."""
    return client.post(
        f"/articles/{article.slug}/comments/", comment_form_data(article, **fields), **(request or {})
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
    """Make the Editors and Moderators groups again if a transactional test flushed them.

    They come from data migrations; tests on a transactional database empty every table.
    """
    if Group.objects.filter(name__in=["Editors", "Moderators"]).count() == 2:
        return
    import_module("articles.migrations.0002_create_roles").create_roles(apps, None)
    import_module("comments.migrations.0002_moderation_roles").grant(apps, None)


def admin_article_form_data(article, **overrides):
    """The admin article form as the change page sends it, with the article's side effects inline."""
    effects = list(article.side_effects.all())
    data = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "status": article.status,
        "published_at_0": timezone.localtime(article.published_at).strftime("%Y-%m-%d"),
        "published_at_1": timezone.localtime(article.published_at).strftime("%H:%M:%S"),
        "comments_open": "on",
        "comments_close_at_0": "",
        "comments_close_at_1": "",
        "side_effects-TOTAL_FORMS": str(len(effects)),
        "side_effects-INITIAL_FORMS": str(len(effects)),
        "side_effects-MIN_NUM_FORMS": "0",
        "side_effects-MAX_NUM_FORMS": "1000",
    }
    for index, effect in enumerate(effects):
        prefix = f"side_effects-{index}-"
        data.update(
            {
                f"{prefix}id": str(effect.pk),
                f"{prefix}article": str(article.pk),
                f"{prefix}name": effect.name,
                f"{prefix}order": str(effect.order),
                f"{prefix}frequency": effect.frequency,
                f"{prefix}duration": effect.duration,
                f"{prefix}description": effect.description,
                f"{prefix}cause": effect.cause,
                f"{prefix}advice": effect.advice,
            }
        )
    data.update(overrides)
    return data
