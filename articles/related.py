"""Related articles, ranked when articles change and stored with each article.

An article's related articles are the published articles that share most of its topics,
then whose text is most like it: on PostgreSQL, the full-text rank of their search vector
(title, summary, body and side effects) against the words of its title, summary and
topics; on SQLite, the same words shared with their title and summary, rarer words
counting more. Ties go to the newest.

They are stored twice: as RelatedArticle rows, so that a change of an article finds every
list that shows it, and as `Article.related_outline`, what the page lists, so that the
article page ranks nothing and runs no query for them. Scheduled articles are stored too,
with their publication time: the page shows them once it has come.

What is ranked again, and when: an article whose title, slug, summary, status or
publication time changes, that is created or deleted, or whose topics change, and with it
every article that shares one of its topics (before or after the change), lists it, or is
listed by it (similarity goes both ways, so these are the likeliest to list it). An edit of
the body alone ranks nothing again: it moves the text similarity a little, and
`manage.py rank_related_articles` ranks every article again when wanted.
"""

import math
import re
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, models
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from articles.models import LIST_FIELDS, SEARCH_CONFIG, Article, RelatedArticle, Topic, article_pages_changed

# What the page shows (articles.views.RELATED_ARTICLES) and a few more, for the scheduled
# ones that are not shown yet.
STORED_RELATED = 6
# A change of these changes what other articles' lists show of an article, or whether it is in them.
LISTED_FIELDS = ("title", "slug", "summary", "status", "published_at")
# Words of the title, summary and topics that rank the others (at most this many).
MAX_QUERY_WORDS = 40
WORD = re.compile(r"[^\W_]{3,}")
# Left out of the SQLite fallback's words: PostgreSQL's English configuration drops them.
ENGLISH_STOP_WORDS = (
    "about after again also and are because been before being between both but can could does doing "
    "down during each few for from further had has have having her here hers herself him himself his "
    "how into its itself just more most not now off once only other our ours out over own same she "
    "should some such than that the their theirs them then there these they this those through too "
    "under until very was were what when where which while who whom why will with would you your "
    "yours yourself"
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS.split())


def words_of(*texts):
    """The distinct words of `texts` that rank similarity, lower-cased, in order."""
    words = dict.fromkeys(
        word for text in texts for word in WORD.findall(text.lower()) if word not in STOP_WORDS
    )
    return list(words)[:MAX_QUERY_WORDS]


def query_words(article, topics):
    return words_of(article.title, article.summary, *(topic.name for topic in topics))


def candidates():
    """Articles that may be listed: published ones, scheduled ones included."""
    return Article.objects.filter(status=Article.Status.PUBLISHED)


def rank_on_postgresql(article, topic_ids, words):
    """The best candidates for `article` ranked by the database: shared topics, then ts_rank."""
    topic_links = Article.topics.through.objects.filter(article_id=OuterRef("pk"), topic_id__in=topic_ids)
    shared = Subquery(topic_links.values("article_id").annotate(total=Count("pk")).values("total"))
    ranked = candidates().exclude(pk=article.pk).annotate(shared_topics=Coalesce(shared, 0))
    match = Q(shared_topics__gt=0)
    if words:
        query = SearchQuery(" | ".join(words), search_type="raw", config=SEARCH_CONFIG)
        ranked = ranked.annotate(similarity=SearchRank(F("search_vector"), query))
        match |= Q(search_vector=query)
    else:
        ranked = ranked.annotate(similarity=Value(0.0, output_field=models.FloatField()))
    ranked = ranked.filter(match).order_by("-shared_topics", "-similarity", "-published_at", "-pk")
    return list(ranked.only(*LIST_FIELDS)[:STORED_RELATED])


class WordOverlap:
    """The SQLite fallback: every candidate's topics and words read once, and an index from
    each word and topic to the candidates that have it, for the articles ranked together."""

    def __init__(self):
        self.articles = {article.pk: article for article in candidates().only(*LIST_FIELDS)}
        self.by_topic = {}
        for article_id, topic_id in Article.topics.through.objects.filter(
            article_id__in=self.articles
        ).values_list("article_id", "topic_id"):
            self.by_topic.setdefault(topic_id, set()).add(article_id)
        self.by_word = {}
        for article in self.articles.values():
            for word in words_of(article.title, article.summary):
                self.by_word.setdefault(word, set()).add(article.pk)

    def rank(self, article, topic_ids, words):
        shared_topics = Counter()
        for topic_id in topic_ids:
            shared_topics.update(self.by_topic.get(topic_id, ()))
        similarity = Counter()
        for word in words:
            having = self.by_word.get(word, ())
            if having:
                weight = math.log(1 + len(self.articles) / len(having))  # rarer words count more
                for pk in having:
                    similarity[pk] += weight
        found = (set(shared_topics) | set(similarity)) - {article.pk}
        ranked = sorted(
            (self.articles[pk] for pk in found),
            key=lambda other: (shared_topics[other.pk], similarity[other.pk], other.published_at, other.pk),
            reverse=True,
        )
        return ranked[:STORED_RELATED]


def outline(article):
    """What an article page stores of a related article (Article.related_outline)."""
    return {
        "id": article.pk,
        "title": article.title,
        "url": article.get_absolute_url(),
        "summary": article.summary,
        "published_at": article.published_at.isoformat(),
    }


def rank_and_store(article_ids):
    """Rank the related articles of each of `article_ids` and store them; returns how many
    articles were ranked."""
    articles = list(
        Article.objects.filter(pk__in=set(article_ids)).only("title", "summary").prefetch_related("topics")
    )
    if not articles:
        return 0
    overlap = None if connection.vendor == "postgresql" else WordOverlap()
    for article in articles:
        topics = list(article.topics.all())
        topic_ids = [topic.pk for topic in topics]
        words = query_words(article, topics)
        if overlap is None:
            ranked = rank_on_postgresql(article, topic_ids, words)
        else:
            ranked = overlap.rank(article, topic_ids, words)
        RelatedArticle.objects.filter(article=article).delete()
        RelatedArticle.objects.bulk_create(
            RelatedArticle(article=article, related=other, rank=rank) for rank, other in enumerate(ranked, 1)
        )
        # Not ArticleQuerySet.update: one retirement of the pages for all of them, below.
        models.QuerySet.update(
            Article.objects.filter(pk=article.pk), related_outline=[outline(other) for other in ranked]
        )
    article_pages_changed()
    return len(articles)


def refresh_related(article_ids, topic_ids=()):
    """Rank again the related articles of `article_ids` and of every article whose list may
    change with them: those that share one of their topics (or of `topic_ids`, topics they
    just left) and those that list them."""
    article_ids = set(article_ids)
    if not article_ids:
        return
    links = Article.topics.through.objects
    topic_ids = set(topic_ids) | set(
        links.filter(article_id__in=article_ids).values_list("topic_id", flat=True)
    )
    affected = (
        article_ids
        | set(links.filter(topic_id__in=topic_ids).values_list("article_id", flat=True))
        | set(RelatedArticle.objects.filter(related__in=article_ids).values_list("article_id", flat=True))
    )
    rank_and_store(affected)
    # Similarity goes both ways: the articles they now list are the likeliest to list them.
    listed = RelatedArticle.objects.filter(article__in=article_ids).values_list("related_id", flat=True)
    rank_and_store(set(listed) - affected)


# Articles whose ranking is put off to the end of a deferred_ranking() block.
_deferred = ContextVar("deferred_ranking", default=None)


@contextmanager
def deferred_ranking():
    """Inside this block, saving an article ranks related articles once, at the end: Article.save()
    stores the search vector that ranking reads after the row itself is saved."""
    pending = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh_related(pending)


def note_listed_fields(sender, instance, raw, **kwargs):
    """pre_save receiver: what other lists show of the article, as the database holds it."""
    if instance.pk is not None:
        instance._listed_before = Article.objects.filter(pk=instance.pk).values_list(*LISTED_FIELDS).first()


def article_saved(sender, instance, created, **kwargs):
    """post_save receiver (raw saves too: a restored revision)."""
    before = instance.__dict__.pop("_listed_before", None)
    now = tuple(getattr(instance, name) for name in LISTED_FIELDS)
    if created or before != now:
        pending = _deferred.get()
        if pending is None:
            refresh_related([instance.pk])
        else:
            pending.add(instance.pk)


def note_lists_showing(sender, instance, **kwargs):
    """pre_delete receiver: the articles that list it or share a topic, ranked again once it is gone."""
    links = Article.topics.through.objects
    topic_ids = links.filter(article_id=instance.pk).values_list("topic_id", flat=True)
    instance._ranked_after_delete = set(
        links.filter(topic_id__in=list(topic_ids))
        .exclude(article_id=instance.pk)
        .values_list("article_id", flat=True)
    ) | set(RelatedArticle.objects.filter(related=instance.pk).values_list("article_id", flat=True))


def article_deleted(sender, instance, **kwargs):
    rank_and_store(instance.__dict__.pop("_ranked_after_delete", set()))


def topics_changed(sender, instance, action, reverse, pk_set=None, **kwargs):
    """m2m_changed receiver of Article.topics, from either side (article.topics.set(...),
    topic.articles.clear()): the articles store their topics again and are ranked again."""
    if action == "pre_clear":
        if reverse:
            instance._cleared_ids = list(instance.articles.values_list("pk", flat=True))
        else:
            instance._cleared_ids = list(instance.topics.values_list("pk", flat=True))
    if not action.startswith("post_"):
        return
    changed = instance.__dict__.pop("_cleared_ids", []) if action == "post_clear" else list(pk_set or [])
    if reverse:
        article_ids, topic_ids = changed, [instance.pk]
    else:
        article_ids, topic_ids = [instance.pk], changed
    Article.objects.filter(pk__in=article_ids).refresh_derived_fields()
    refresh_related(article_ids, topic_ids)


def topic_saved(sender, instance, created, **kwargs):
    """post_save receiver: the articles filed under a topic link it by name."""
    if not created:
        Article.objects.filter(topics=instance).refresh_derived_fields()
    article_pages_changed()


def note_articles_of_topic(sender, instance, **kwargs):
    """pre_delete receiver: a topic's links go with it, and no m2m_changed tells its articles."""
    instance._article_ids = list(instance.articles.values_list("pk", flat=True))


def topic_deleted(sender, instance, **kwargs):
    article_ids = instance.__dict__.pop("_article_ids", [])
    Article.objects.filter(pk__in=article_ids).refresh_derived_fields()
    refresh_related(article_ids)
    article_pages_changed()


def connect_signals():
    """Connected by ArticlesConfig.ready()."""
    proxies = [
        model for model in apps.get_models() if model._meta.proxy and model._meta.concrete_model is Article
    ]
    for model in (Article, *proxies):
        name = model.__name__
        pre_save.connect(note_listed_fields, sender=model, dispatch_uid=f"related-listed-fields-{name}")
        post_save.connect(article_saved, sender=model, dispatch_uid=f"related-article-saved-{name}")
        pre_delete.connect(note_lists_showing, sender=model, dispatch_uid=f"related-lists-showing-{name}")
        post_delete.connect(article_deleted, sender=model, dispatch_uid=f"related-article-deleted-{name}")
    m2m_changed.connect(topics_changed, sender=Article.topics.through, dispatch_uid="related-topics")
    post_save.connect(topic_saved, sender=Topic, dispatch_uid="related-topic-saved")
    pre_delete.connect(note_articles_of_topic, sender=Topic, dispatch_uid="related-topic-deleting")
    post_delete.connect(topic_deleted, sender=Topic, dispatch_uid="related-topic-deleted")
