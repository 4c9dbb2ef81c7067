"""Pages are sent compressed as the browser accepts: cached pages from bytes compressed once when
stored (Brotli, or gzip put together around the per-request tokens), every other answer by the
compression middleware; a browser that accepts none gets the page as it is."""

import gzip
import re

import brotli
import pytest
from django.test import Client

from pagecache import compression
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends


def decoded(response):
    coding = response.get("Content-Encoding")
    if coding == "gzip":
        return gzip.decompress(response.content).decode()
    if coding == "br":
        return brotli.decompress(response.content).decode()
    assert coding is None, coding
    return response.content.decode()


def cached(url, accept=BROWSER, client=None):
    """The page at `url` as a second reader gets it from the cache."""
    Client().get(url)
    response = (client or Client()).get(url, HTTP_ACCEPT_ENCODING=accept)
    assert response["X-Page-Cache"] == "hit"
    return response


def test_a_cached_page_without_forms_is_sent_as_brotli_stored_once(monkeypatch):
    ArticleFactory(title="Healing week by week")
    plain = Client().get("/").content.decode()
    monkeypatch.setattr(
        compression.brotli, "compress", lambda *args, **kwargs: pytest.fail("compressed again")
    )

    response = cached("/")

    assert response["Content-Encoding"] == "br"
    assert decoded(response) == plain
    assert "Healing week by week" in decoded(response)
    assert "Accept-Encoding" in response["Vary"]


def test_a_cached_page_with_a_form_is_sent_as_gzip_with_this_readers_own_tokens():
    article = ArticleFactory(comments_open=True)
    first, second = cached(article.get_absolute_url()), cached(article.get_absolute_url())

    assert first["Content-Encoding"] == second["Content-Encoding"] == "gzip"
    tokens = [
        re.findall(r'name="(?:csrfmiddlewaretoken|form_token)" value="([^"]+)"', decoded(r))
        for r in (first, second)
    ]
    assert len(tokens[0]) == 2
    assert not set(tokens[0]) & set(tokens[1])
    assert "\x00" not in decoded(first)


def test_a_comment_can_be_sent_from_a_compressed_cached_page(settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    article = ArticleFactory(comments_open=True)
    reader = Client(enforce_csrf_checks=True)
    html = decoded(cached(article.get_absolute_url(), client=reader))
    fields = dict(re.findall(r'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"', html))

    response = reader.post(
        f"/articles/{article.slug}/comments/",
        {**fields, "author_name": "Ana", "author_email": "ana@example.com", "body": "Is redness normal?"},
    )

    assert response.status_code == 303


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0, br;q=0", "compress"])
def test_a_browser_that_accepts_no_coding_we_have_gets_the_page_as_it_is(accept):
    article = ArticleFactory(comments_open=True)

    for url in ("/", article.get_absolute_url()):
        response = cached(url, accept=accept)
        assert "Content-Encoding" not in response
        assert "<html" in response.content.decode()


def test_a_page_with_a_form_is_compressed_per_request_for_a_browser_that_accepts_only_brotli():
    """Brotli data cannot be put together around the tokens: such a rare browser gets the page
    compressed for it by the compression middleware."""
    article = ArticleFactory(comments_open=True)

    response = cached(article.get_absolute_url(), accept="br")

    assert response["Content-Encoding"] == "br"
    assert 'name="form_token"' in decoded(response)


def test_each_coding_has_its_own_etag_and_a_matching_one_answers_304():
    ArticleFactory()
    with_brotli, as_is = cached("/"), cached("/", accept="")
    assert with_brotli["ETag"] != as_is["ETag"]

    again = Client().get("/", HTTP_ACCEPT_ENCODING=BROWSER, HTTP_IF_NONE_MATCH=with_brotli["ETag"])

    assert again.status_code == 304


def test_pages_the_cache_does_not_keep_are_compressed_too():
    ArticleFactory(title="Redness after a session", body="Redness fades within days. " * 60)

    response = Client().get("/search/?q=redness", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert "Redness after a session" in decoded(response)


def test_gzip_put_together_around_holes_is_one_ordinary_gzip_member():
    parts = [compression.independent_deflate(part) for part in (b"<p>before ", b" middle ", b" after</p>")]
    filled = b"<p>before TOKEN-1 middle TOKEN-22 after</p>"

    spliced = compression.spliced_gzip(parts, [b"TOKEN-1", b"TOKEN-22"], filled)

    assert gzip.decompress(spliced) == filled
    assert spliced.count(b"\x1f\x8b") == 1
