"""factory_boy factories: a published article with side effects in one line."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from articles.models import Article, SideEffect


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

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
