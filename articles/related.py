"""Related articles, ranked when articles change and stored with each article.

An article's related articles are the published articles that share most of its topics,
then whose title and summary are most alike (the words they share, rarer words counting
more, words in more than a tenth of a large site's articles not at all), then the newest.
The words are an article's search terms: on PostgreSQL its full-text lexemes (stemmed, stop
words left out: "fading" and "faded" are one word), on SQLite its plain lower-cased words.
They are stored with the article when it is saved (`Article.related_terms`).

Ranking reads every published article's terms and topics once (RelatedIndex) and ranks from
an index in memory: a score per article never costs a query per candidate, so ranking
every article of a site of 10,000 takes seconds, not the half hour a full-text rank per
candidate took.

The result is stored twice: as RelatedArticle rows with their score, so that a change of
an article finds every list that shows it and every list it would now enter, and as
`Article.related_outline`, what the page lists, so that the article page ranks nothing and
runs no query for them. Scheduled articles are stored too, with their publication time: the
page shows them once it has come.

What is ranked again, and when: an article whose title, slug, summary, status or
publication time changes, that is created or deleted, or whose topics change; every list
that shows it; and every list it now enters (its score beats the list's last entry). An
edit of the body alone ranks nothing again, and the weights of words drift a little as
articles come and go: `manage.py rank_related_articles` (nightly, from cron) ranks every
article again.
"""

import heapq
import math
import re
from collections import Counter, defaultdict
from itertools import islice

from django.apps import apps
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, transaction
from django.db.models import Func, JSONField, Value
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from articles.models import SEARCH_CONFIG, Article, RelatedArticle, Topic, article_pages_changed
from articles.once import OncePerBlock

# What the page shows (articles.views.RELATED_ARTICLES) and a few more, for the scheduled
# ones that are not shown yet.
STORED_RELATED = 6
# A change of these changes what other articles' lists show of an article, or whether it is in them.
LISTED_FIELDS = ("title", "slug", "summary", "status", "published_at")
# A word in more than this share of the articles (once there are more than COMMON_WORD_FLOOR
# of them) says nothing about how alike two articles are: on this site, "scalp".
COMMON_WORD_SHARE = 0.1
COMMON_WORD_FLOOR = 20
# The fields of a related article that its outline and ranking read.
OUTLINE_FIELDS = ["title", "slug", "summary", "published_at", "related_terms"]
WORD = re.compile(r"[^\W_]{2,}")
# Left out of the SQLite fallback's words: the stop words of PostgreSQL's English configuration.
ENGLISH_STOP_WORDS = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she "
    "her hers herself it its itself they them their theirs themselves what which who whom this that "
    "these those am is are was were be been being have has had having do does did doing a an the "
    "and but if or because as until while of at by for with about against between into through "
    "during before after above below to from up down in out on off over under again further then "
    "once here there when where why how all any both each few more most other some such no nor not "
    "only own same so than too very s t can will just don should now"
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS.split())


def terms_of(title, summary):
    """What Article.related_terms stores for this title and summary: a list of words on
    SQLite, an expression that makes the database's full-text lexemes on PostgreSQL."""
    text = f"{title}\n{summary}"
    if connection.vendor == "postgresql":
        lexemes = Func(
            Func(Value(SEARCH_CONFIG), Value(text), function="to_tsvector", output_field=SearchVectorField()),
            function="tsvector_to_array",
        )
        return Func(lexemes, function="to_jsonb", output_field=JSONField())
    return list(dict.fromkeys(word for word in WORD.findall(text.lower()) if word not in STOP_WORDS))


class Candidate:
    """A published article as ranking sees it."""

    __slots__ = ("pk", "published_at", "terms", "topics")

    def __init__(self, pk, published_at, terms, topics):
        self.pk, self.published_at, self.terms, self.topics = pk, published_at, terms, topics


class RelatedIndex:
    """Every published article's terms and topics (scheduled ones too), with an index from
    each term to the articles that have it and the articles grouped by their set of topics."""

    def __init__(self):
        topics = defaultdict(set)
        published = Article.objects.filter(status=Article.Status.PUBLISHED)
        for article_id, topic_id in Article.topics.through.objects.filter(article__in=published).values_list(
            "article_id", "topic_id"
        ):
            topics[article_id].add(topic_id)
        self.candidates = {
            pk: Candidate(pk, published_at, frozenset(terms), frozenset(topics[pk]))
            for pk, published_at, terms in published.values_list("pk", "published_at", "related_terms")
        }
        self.by_term = defaultdict(set)
        groups = defaultdict(list)
        for candidate in self.candidates.values():
            for term in candidate.terms:
                self.by_term[term].add(candidate.pk)
            if candidate.topics:
                groups[candidate.topics].append(candidate)
        # Newest first, as ties are broken.
        self.groups = {
            topic_set: sorted(members, key=lambda c: (c.published_at, c.pk), reverse=True)
            for topic_set, members in groups.items()
        }
        total = len(self.candidates)
        common = max(COMMON_WORD_FLOOR, COMMON_WORD_SHARE * total)
        self.weights = {
            term: math.log(1 + total / len(having))
            for term, having in self.by_term.items()
            if len(having) <= common
        }

    def similarity(self, terms, other_terms):
        return sum(self.weights.get(term, 0.0) for term in terms & other_terms)

    def score(self, topics, terms, candidate):
        """How related `candidate` is to an article of these topics and terms: (shared
        topics, similarity), compared as a tuple, then newest first."""
        return (len(topics & candidate.topics), self.similarity(terms, candidate.terms))

    def rank(self, pk, topics, terms):
        """[(candidate, shared topics, similarity)], the best STORED_RELATED, best first."""
        similarity = Counter()
        for term in terms:
            weight = self.weights.get(term)
            if weight:
                for other in self.by_term[term]:
                    similarity[other] += weight
        similarity.pop(pk, None)
        found = {}
        for other in similarity:
            candidate = self.candidates[other]
            found[other] = (len(topics & candidate.topics), similarity[other], candidate)
        # Articles sharing topics but no word: within each set of topics, the newest few.
        for topic_set, members in self.groups.items():
            shared = len(topics & topic_set)
            if not shared:
                continue
            wordless = (member for member in members if member.pk not in similarity and member.pk != pk)
            for candidate in islice(wordless, STORED_RELATED):
                found[candidate.pk] = (shared, 0.0, candidate)
        best = heapq.nlargest(
            STORED_RELATED,
            found.values(),
            key=lambda entry: (entry[0], entry[1], entry[2].published_at, entry[2].pk),
        )
        return [(candidate, shared, score) for shared, score, candidate in best if shared or score]


def outline(article):
    """What an article page stores of a related article (Article.related_outline)."""
    return {
        "id": article.pk,
        "title": article.title,
        "slug": article.slug,  # the page makes the address, under the site's path prefix
        "summary": article.summary,
        "published_at": article.published_at.isoformat(),
    }


def rank_and_store(article_ids, index=None):
    """Rank the related articles of each of `article_ids` and store them; returns how many
    were ranked. `index`: a RelatedIndex to rank from, when several calls share one."""
    targets = list(
        Article.objects.filter(pk__in=set(article_ids)).only("related_terms").prefetch_related("topics")
    )
    if not targets:
        return 0
    index = index or RelatedIndex()
    rankings = {}
    for target in targets:
        topics = frozenset(topic.pk for topic in target.topics.all())
        rankings[target.pk] = index.rank(target.pk, topics, frozenset(target.related_terms))
    listed = {candidate.pk for ranked in rankings.values() for candidate, _, _ in ranked}
    shown = Article.objects.only(*OUTLINE_FIELDS).in_bulk(listed)
    with transaction.atomic():
        RelatedArticle.objects.filter(article__in=rankings).delete()
        RelatedArticle.objects.bulk_create(
            RelatedArticle(
                article_id=pk, related_id=candidate.pk, rank=rank, shared_topics=shared, similarity=score
            )
            for pk, ranked in rankings.items()
            for rank, (candidate, shared, score) in enumerate(ranked, start=1)
        )
        for target in targets:
            target.related_outline = [outline(shown[candidate.pk]) for candidate, _, _ in rankings[target.pk]]
        # Not ArticleQuerySet.update: one retirement of the pages for all of them, below.
        Article.objects.bulk_update(targets, ["related_outline"], batch_size=500)
    article_pages_changed()
    return len(targets)


def lists_entered_by(article_ids, index):
    """The articles whose stored list one of `article_ids` now beats the last entry of (or
    that list fewer than STORED_RELATED and now find it related at all)."""
    entering = [index.candidates[pk] for pk in article_ids if pk in index.candidates]
    if not entering:
        return set()
    # Who could find them related at all: articles sharing a topic or a weighed term.
    scores = defaultdict(list)
    for article in entering:
        near = set()
        for term in article.terms:
            if term in index.weights:
                near |= index.by_term[term]
        for topic_set, members in index.groups.items():
            if topic_set & article.topics:
                near.update(member.pk for member in members)
        near.discard(article.pk)
        for pk in near:
            other = index.candidates[pk]
            shared, score = index.score(other.topics, other.terms, article)
            if shared or score:
                scores[pk].append((shared, score, article.published_at, article.pk))
    if not scores:
        return set()
    # The last entry of each full list: what a newcomer must beat.
    last = {
        article_id: (shared, score, published_at, related_id)
        for article_id, shared, score, published_at, related_id in RelatedArticle.objects.filter(
            article__in=list(scores), rank=STORED_RELATED
        ).values_list("article_id", "shared_topics", "similarity", "related__published_at", "related_id")
    }
    return {pk for pk, keys in scores.items() if pk not in last or max(keys) > last[pk]}


def refresh_related(article_ids):
    """Rank again the related articles of `article_ids`, of every list that shows one of
    them, and of every list one of them now enters."""
    article_ids = set(article_ids)
    if not article_ids:
        return
    index = RelatedIndex()
    showing = set(RelatedArticle.objects.filter(related__in=article_ids).values_list("article_id", flat=True))
    rank_and_store(article_ids | showing | lists_entered_by(article_ids, index), index)


# Articles whose ranking is put off to the end of a deferred_ranking() block.
_ranking = OncePerBlock("deferred_ranking", lambda pks: refresh_related(pks))


def deferred_ranking():
    """Inside this block, saving an article ranks related articles once, at the end: Article.save()
    stores the terms that ranking reads after the row itself is saved."""
    return _ranking.block()


def note_listed_fields(sender, instance, raw, **kwargs):
    """pre_save receiver: what other lists show of the article, as the database holds it."""
    if instance.pk is not None:
        instance._listed_before = Article.objects.filter(pk=instance.pk).values_list(*LISTED_FIELDS).first()


def article_saved(sender, instance, created, **kwargs):
    """post_save receiver (raw saves too: a restored revision)."""
    before = instance.__dict__.pop("_listed_before", None)
    now = tuple(getattr(instance, name) for name in LISTED_FIELDS)
    changed = created or before != now
    if changed and not _ranking.defer([instance.pk]):
        refresh_related([instance.pk])


def note_lists_showing(sender, instance, **kwargs):
    """pre_delete receiver: the lists that show the article, ranked again once it is gone."""
    instance._lists_showing = set(
        RelatedArticle.objects.filter(related=instance.pk).values_list("article_id", flat=True)
    )


def article_deleted(sender, instance, **kwargs):
    rank_and_store(instance.__dict__.pop("_lists_showing", set()))


def topics_changed(sender, instance, action, reverse, pk_set=None, **kwargs):
    """m2m_changed receiver of Article.topics, from either side (article.topics.set(...),
    topic.articles.clear()): the articles store their topics again and are ranked again,
    with the lists they leave or enter."""
    if action == "pre_clear" and reverse:
        instance._cleared_ids = list(instance.articles.values_list("pk", flat=True))
    if not action.startswith("post_"):
        return
    if not reverse:
        article_ids = [instance.pk]
    elif action == "post_clear":
        article_ids = instance.__dict__.pop("_cleared_ids", [])
    else:
        article_ids = list(pk_set or [])
    Article.objects.filter(pk__in=article_ids).refresh_derived_fields()
    refresh_related(article_ids)


def topic_saved(sender, instance, created, **kwargs):
    """post_save receiver: the articles filed under a topic link it by name."""
    if not created:
        Article.objects.filter(topics=instance).refresh_derived_fields()
    article_pages_changed()


def note_articles_of_topic(sender, instance, **kwargs):
    """pre_delete receiver: a topic's links go with it, and no m2m_changed tells its articles."""
    instance._article_ids = list(instance.articles.values_list("pk", flat=True))


def topic_deleted(sender, instance, **kwargs):
    """post_delete receiver: the topic's articles shared it with each other: rank them again."""
    article_ids = instance.__dict__.pop("_article_ids", [])
    Article.objects.filter(pk__in=article_ids).refresh_derived_fields()
    rank_and_store(article_ids)
    article_pages_changed()


def connect_signals():
    """Connected by ArticlesConfig.ready(), for Article and its proxies."""
    for model in (Article, *apps.get_app_config("articles").get_proxies_of(Article)):
        name = model.__name__
        pre_save.connect(note_listed_fields, sender=model, dispatch_uid=f"related-listed-fields-{name}")
        post_save.connect(article_saved, sender=model, dispatch_uid=f"related-article-saved-{name}")
        pre_delete.connect(note_lists_showing, sender=model, dispatch_uid=f"related-lists-showing-{name}")
        post_delete.connect(article_deleted, sender=model, dispatch_uid=f"related-article-deleted-{name}")
    m2m_changed.connect(topics_changed, sender=Article.topics.through, dispatch_uid="related-topics")
    post_save.connect(topic_saved, sender=Topic, dispatch_uid="related-topic-saved")
    pre_delete.connect(note_articles_of_topic, sender=Topic, dispatch_uid="related-topic-deleting")
    post_delete.connect(topic_deleted, sender=Topic, dispatch_uid="related-topic-deleted")
