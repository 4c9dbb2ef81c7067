"""Search over published articles and their side effects.

On PostgreSQL: full-text search over a weighted vector (title A; summary and
side-effect names B; body C; side-effect details D) with `websearch` syntax
("quoted phrases", -exclusions, or), ranked with SearchRank and shown with
SearchHeadline; when nothing matches, a trigram word-similarity fallback finds
typos ("bluness"). On SQLite: every word must appear in the article's text,
title matches first.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles.models import SEARCH_CONFIG, Article

MAX_QUERY_LENGTH = 200
TRIGRAM_THRESHOLD = 0.4
MAX_SIMILAR_RESULTS = 50
SNIPPET_CHARS = 240
# Sentinels around matched words in SearchHeadline's output: the text is escaped
# first, then these become <mark> tags, so nothing an editor wrote becomes markup.
MARK_START, MARK_STOP = "\x02", "\x03"


@dataclass
class SearchQueryText:
    text: str
    was_shortened: bool


def clean_query(raw):
    """The reader's query without control characters, white space folded, at most 200 characters."""
    text = "".join(char if char.isprintable() else " " for char in raw or "")
    text = " ".join(text.split())
    shortened = len(text) > MAX_QUERY_LENGTH
    return SearchQueryText(text[:MAX_QUERY_LENGTH].strip(), shortened)


def search_articles(text):
    """Published articles matching `text`, best first, and whether the typo fallback was used.

    Each article carries `snippet`: safe HTML with the matched words in <mark>, once
    the page's results are passed through `add_snippets`.
    """
    if not text:
        return Article.objects.none(), False
    if connection.vendor == "postgresql":
        return postgres_search(text)
    return fallback_search(text), False


def postgres_search(text):
    query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
    published = Article.objects.published().for_list()
    results = (
        published.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-published_at", "-pk")
    )
    if results.exists():
        return results.annotate(headline=headline(query)), False
    return similar_words_search(published, text), True


def similar_words_search(published, text):
    """Articles containing a word close to the query's (typos), most similar first.

    The trigram operator `%>` can use the GIN trigram index, but its threshold is a
    setting, so it is lowered for this one transaction and the best matches' ids fetched.
    """
    with transaction.atomic(using=published.db), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)]
        )
        ids = list(
            published.filter(search_document__trigram_word_similar=text)
            .annotate(similarity=TrigramWordSimilarity(text, "search_document"))
            .order_by("-similarity", "-published_at", "-pk")
            .values_list("pk", flat=True)[:MAX_SIMILAR_RESULTS]
        )
    ranking = Case(*(When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)), default=Value(0))
    return published.filter(pk__in=ids).order_by(ranking)


def headline(query):
    return SearchHeadline(
        "search_document",
        query,
        config=SEARCH_CONFIG,
        start_sel=MARK_START,
        stop_sel=MARK_STOP,
        max_words=40,
        min_words=20,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def fallback_search(text):
    words = [word for word in re.split(r"\s+", text.replace('"', " ")) if word.strip("-")]
    if not words:
        return Article.objects.none()
    condition = Q()
    for word in words:
        condition &= Q(search_document__icontains=word.lstrip("-"))
    in_title = Q()
    for word in words:
        in_title |= Q(title__icontains=word.lstrip("-"))
    return (
        Article.objects.published()
        .for_list("search_document")  # snippets are cut from it
        .filter(condition)
        .annotate(
            title_match=Case(When(in_title, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
        .order_by("-title_match", "-published_at", "-pk")
    )


def add_snippets(articles, text):
    """Give each article of a results page a `snippet` (safe HTML), at most ~240 characters."""
    words = [word.strip('"-').casefold() for word in text.split() if len(word.strip('"-')) > 1]
    for article in articles:
        source = getattr(article, "headline", None)
        if source:
            html = escape(source).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
            article.snippet = mark_safe(html)
        else:
            article.snippet = highlight(
                excerpt(article.summary + " " + article.search_document, words), words
            )
    return articles


def excerpt(document, words):
    """A window of the document around the first matched word (or its start)."""
    folded = document.casefold()
    positions = [folded.find(word) for word in words if folded.find(word) >= 0]
    start = max(0, min(positions) - SNIPPET_CHARS // 3) if positions else 0
    window = document[start : start + SNIPPET_CHARS]
    return ("… " if start else "") + window + (" …" if start + SNIPPET_CHARS < len(document) else "")


def highlight(text, words):
    """Escape `text` and wrap each occurrence of any of `words` in <mark>, in one pass."""
    if not words:
        return escape(text)
    alternatives = sorted({re.escape(word) for word in words}, key=len, reverse=True)
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[last : match.start()]), f"<mark>{escape(match.group())}</mark>"]
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))
