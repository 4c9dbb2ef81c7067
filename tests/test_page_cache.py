"""The readers' page cache: served from cache, personal tokens fresh, never stale after a change.

These tests use a transactional database: invalidation happens when a change
commits, as it does on the real site.
"""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article
from comments.models import Comment
from pagecache import store as page_cache
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CommentFactory,
    ReviewFactory,
    SideEffectFactory,
    admin_comment_form_data,
    comment_form_data,
    ensure_roles,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def roles():
    ensure_roles()


def get(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code in (200, 304), response.status_code
    return response


def html_of(client, url, **extra):
    return get(client, url, **extra).content.decode()


# Served from the cache ---------------------------------------------------------------


def test_second_anonymous_view_is_served_from_cache_without_sql(client):
    article = ArticleFactory(side_effects=3)
    first = get(client, article.get_absolute_url())

    with CaptureQueriesContext(connection) as queries:
        second = get(Client(), article.get_absolute_url())

    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    assert len(queries) == 0
    assert second.content.decode().count("<h2 id=") == first.content.decode().count("<h2 id=")


@pytest.mark.parametrize("url", ["/", "/feed/", "/feed/atom/", "/sitemap.xml"])
def test_home_feeds_and_sitemap_are_cached(client, url):
    ArticleFactory()
    get(client, url)

    assert get(Client(), url)["X-Page-Cache"] == "hit"


def test_logged_in_staff_never_get_cached_pages(editor_client):
    article = ArticleFactory()

    for _ in range(2):
        assert "X-Page-Cache" not in get(editor_client, article.get_absolute_url())


def test_made_up_query_parameters_share_the_cached_page(client):
    ArticleFactory()
    get(client, "/")

    assert get(Client(), "/?utm_source=newsletter&x=1")["X-Page-Cache"] == "hit"


def test_each_page_number_is_cached_separately(client):
    for number in range(12):
        ArticleFactory(
            title=f"Article {number:02d}", published_at=timezone.now() - timedelta(days=number + 1)
        )

    first = html_of(client, "/")
    second = html_of(client, "/?page=2")

    assert "Article 00" in first and "Article 00" not in second
    assert "Article 11" in second


def test_cached_page_answers_304_to_a_matching_etag(client):
    article = ArticleFactory()
    etag = get(client, article.get_absolute_url())["ETag"]

    response = Client().get(article.get_absolute_url(), headers={"if-none-match": etag})

    assert response.status_code == 304
    assert response.content == b""


def test_cached_page_is_private_to_the_browser(client):
    response = get(client, ArticleFactory().get_absolute_url())

    assert response["Cache-Control"] == "private, no-cache"


# Personal parts stay personal --------------------------------------------------------------


def tokens(html):
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    return csrf, form


def test_cached_page_gets_fresh_csrf_and_form_tokens_per_request():
    article = ArticleFactory(comments_open=True)
    first, second = Client(), Client()

    first_tokens = tokens(html_of(first, article.get_absolute_url()))
    second_response = get(second, article.get_absolute_url())

    assert second_response["X-Page-Cache"] == "hit"
    second_tokens = tokens(second_response.content.decode())
    assert first_tokens[0] != second_tokens[0]
    assert first_tokens[1] != second_tokens[1]
    assert "\x00" not in second_response.content.decode()


def test_an_article_quoting_the_forms_fields_is_served_with_its_text_and_a_working_form(settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    quoted = 'The form sends `<input name="form_token" value="not-a-token">` with each comment.'
    article = ArticleFactory(comments_open=True, body=quoted)
    first = get(Client(), article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    cached = get(reader, article.get_absolute_url())

    assert (first["X-Page-Cache"], cached["X-Page-Cache"]) == ("miss", "hit")
    html = cached.content.decode()
    assert 'name="form_token" value="not-a-token"' in html
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form_token = re.findall(r'name="form_token" value="([^"]+)"', html)[-1]
    response = reader.post(
        f"/articles/{article.slug}/comments/",
        {**comment_form_data(article), "csrfmiddlewaretoken": csrf, "form_token": form_token},
    )
    assert response.status_code == 303


def test_a_reader_can_comment_from_a_cached_page(settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    article = ArticleFactory(comments_open=True)
    get(Client(), article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    page = get(reader, article.get_absolute_url())
    assert page["X-Page-Cache"] == "hit"
    csrf, form_token = tokens(page.content.decode())

    response = reader.post(
        f"/articles/{article.slug}/comments/",
        {**comment_form_data(article), "csrfmiddlewaretoken": csrf, "form_token": form_token},
    )

    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING


def test_the_awaiting_moderation_message_is_never_cached_or_missed(client):
    article = ArticleFactory(comments_open=True)
    get(Client(), article.get_absolute_url())

    response = client.post(f"/articles/{article.slug}/comments/", comment_form_data(article), follow=True)

    assert "Your comment is awaiting moderation" in response.content.decode()
    assert "awaiting moderation" not in html_of(Client(), article.get_absolute_url())


# Never stale ----------------------------------------------------------------------------------


def test_edited_article_is_fresh_at_once(client):
    article = ArticleFactory(title="Old title")
    assert "Old title" in html_of(client, article.get_absolute_url())
    assert "Old title" in html_of(client, "/")

    article.title = "New title"
    article.save()

    assert "New title" in html_of(client, article.get_absolute_url())
    assert "New title" in html_of(client, "/")
    assert "New title" in html_of(client, "/feed/")


def test_published_draft_appears_and_unpublished_article_disappears(client):
    draft = ArticleFactory(title="Soon public", status=Article.Status.DRAFT)
    public = ArticleFactory(title="Soon hidden")
    assert "Soon public" not in html_of(client, "/")

    draft.status = Article.Status.PUBLISHED
    draft.save()
    public.status = Article.Status.DRAFT
    public.save()

    home = html_of(client, "/")
    assert "Soon public" in home
    assert "Soon hidden" not in home
    assert client.get(public.get_absolute_url()).status_code == 404


def test_side_effect_change_is_fresh_at_once(client):
    article = ArticleFactory()
    effect = SideEffectFactory(article=article, name="Redness", advice="Old advice")
    assert "Old advice" in html_of(client, article.get_absolute_url())

    effect.advice = "New advice"
    effect.save()
    assert "New advice" in html_of(client, article.get_absolute_url())

    effect.delete()
    assert "Redness" not in html_of(client, article.get_absolute_url())


def test_a_new_review_is_fresh_at_once_on_the_article_page(client):
    article = ArticleFactory()
    assert "not yet been medically reviewed" in html_of(client, article.get_absolute_url())

    review = ReviewFactory(article=article, reviewer=AuthorFactory(name="Dr Kim Lee", slug="kim-lee"))
    assert "Medically reviewed by <a" in html_of(client, article.get_absolute_url())
    assert "Dr Kim Lee" in html_of(client, article.get_absolute_url())

    review.delete()
    assert "not yet been medically reviewed" in html_of(client, article.get_absolute_url())


def test_byline_changes_are_fresh_at_once_from_either_side(client):
    article = ArticleFactory()
    author = AuthorFactory(name="Noor Writer", slug="noor-writer")
    assert "Noor Writer" not in html_of(client, article.get_absolute_url())

    article.authors.add(author)
    assert "Noor Writer" in html_of(client, article.get_absolute_url())
    assert article.title in html_of(client, author.get_absolute_url())

    author.articles.clear()
    assert "Noor Writer" not in html_of(client, article.get_absolute_url())
    assert article.title not in html_of(client, author.get_absolute_url())

    author.articles.add(article)
    author.delete()
    assert "Noor Writer" not in html_of(client, article.get_absolute_url())
    assert client.get("/authors/noor-writer/").status_code == 404


def run_action(browser, url, action, objects):
    return browser.post(url, {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]})


def test_comment_approved_or_rejected_in_the_admin_is_fresh_at_once(client, moderator_client):
    article = ArticleFactory()
    comment = CommentFactory(article=article, body="Moderated words", status=Comment.Status.PENDING)
    assert "Moderated words" not in html_of(client, article.get_absolute_url())

    run_action(moderator_client, "/admin/comments/comment/", "approve_comments", [comment])
    assert "Moderated words" in html_of(client, article.get_absolute_url())

    run_action(moderator_client, "/admin/comments/comment/?status=all", "reject_comments", [comment])
    assert "Moderated words" not in html_of(client, article.get_absolute_url())


def test_comment_status_changed_in_its_form_is_fresh_at_once(client, moderator_client):
    article = ArticleFactory()
    comment = CommentFactory(article=article, body="Form moderated", status=Comment.Status.APPROVED)
    assert "Form moderated" in html_of(client, article.get_absolute_url())

    moderator_client.post(
        f"/admin/comments/comment/{comment.pk}/change/", admin_comment_form_data(comment, status="spam")
    )

    assert "Form moderated" not in html_of(client, article.get_absolute_url())


def test_thread_closed_by_a_moderator_is_fresh_at_once(client, moderator_client):
    article = ArticleFactory(comments_open=True)
    assert 'id="comment-form"' in html_of(client, article.get_absolute_url())

    run_action(moderator_client, "/admin/comments/commentthread/", "close_comments", [article])

    html = html_of(client, article.get_absolute_url())
    assert "Comments are closed." in html
    assert 'id="comment-form"' not in html


def test_comment_published_at_once_shows_at_once(client, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    article = ArticleFactory(comments_open=True)
    html_of(Client(), article.get_absolute_url())

    client.post(f"/articles/{article.slug}/comments/", comment_form_data(article, body="Instantly public"))

    assert "Instantly public" in html_of(Client(), article.get_absolute_url())


def test_erased_commenter_is_anonymous_at_once(client):
    from django.core.management import call_command

    article = ArticleFactory()
    CommentFactory(article=article, author_name="Sam Reader", author_email="sam@example.org")
    assert "Sam Reader" in html_of(client, article.get_absolute_url())

    call_command("erase_commenter", "sam@example.org", stdout=None)

    assert "Sam Reader" not in html_of(client, article.get_absolute_url())


def test_articles_changed_in_bulk_are_fresh_at_once(client):
    article = ArticleFactory(title="Old title", comments_open=True)
    assert "Old title" in html_of(client, "/")
    assert 'id="comment-form"' in html_of(client, article.get_absolute_url())

    Article.objects.filter(pk=article.pk).update(title="Bulk title")
    Article.objects.filter(pk=article.pk).set_comments_open(False)

    assert "Bulk title" in html_of(client, "/")
    html = html_of(client, article.get_absolute_url())
    assert "Bulk title" in html
    assert "Comments are closed." in html


def test_side_effects_changed_in_bulk_are_fresh_at_once(client):
    article = ArticleFactory()
    SideEffectFactory(article=article, advice="Old advice")
    assert "Old advice" in html_of(client, article.get_absolute_url())

    article.side_effects.update(advice="Bulk advice")

    assert "Bulk advice" in html_of(client, article.get_absolute_url())


def test_comments_changed_in_bulk_are_fresh_at_once(client, moderator):
    article = ArticleFactory()
    held = CommentFactory(article=article, body="Held words", status=Comment.Status.PENDING)
    shown = CommentFactory(article=article, author_name="Named Reader", body="Shown words")
    assert "Held words" not in html_of(client, article.get_absolute_url())

    Comment.objects.filter(pk=held.pk).set_status(Comment.Status.APPROVED, moderator)
    Comment.objects.filter(pk=shown.pk).update(author_name="Renamed Reader")

    html = html_of(client, article.get_absolute_url())
    assert "Held words" in html
    assert "Renamed Reader" in html and "Named Reader" not in html

    Comment.objects.filter(article=article).set_status(Comment.Status.SPAM, moderator)

    html = html_of(client, article.get_absolute_url())
    assert "Held words" not in html and "Shown words" not in html


def test_changing_what_readers_never_see_keeps_the_cached_page(client):
    article = ArticleFactory()
    CommentFactory(article=article)
    get(client, article.get_absolute_url())

    Comment.objects.filter(article=article).update(ip_address=None, user_agent="")

    assert get(client, article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_scheduled_article_appears_when_its_time_comes(client):
    ArticleFactory(title="Already out")
    ArticleFactory(title="Right on time", published_at=timezone.now() + timedelta(seconds=2))
    assert "Right on time" not in html_of(client, "/")

    time.sleep(2.2)

    assert "Right on time" in html_of(client, "/")


def test_thread_closes_on_its_date_even_when_cached(client):
    article = ArticleFactory(comments_open=True, comments_close_at=timezone.now() + timedelta(seconds=2))
    assert 'id="comment-form"' in html_of(client, article.get_absolute_url())

    time.sleep(2.2)

    assert "Comments are closed." in html_of(client, article.get_absolute_url())


def test_each_address_of_the_site_gets_pages_with_its_own_links(client, settings):
    settings.ALLOWED_HOSTS = ["smp.example", "www.smp.example"]
    url = ArticleFactory().get_absolute_url()

    first = html_of(client, url, HTTP_HOST="smp.example")
    second = get(client, url, HTTP_HOST="www.smp.example")
    https = html_of(client, url, HTTP_HOST="smp.example", secure=True)

    assert f'<link rel="canonical" href="http://smp.example{url}">' in first
    assert second["X-Page-Cache"] == "miss"
    assert f'<link rel="canonical" href="http://www.smp.example{url}">' in second.content.decode()
    assert f'<link rel="canonical" href="https://smp.example{url}">' in https
    assert get(client, url, HTTP_HOST="www.smp.example")["X-Page-Cache"] == "hit"


def test_a_host_the_site_does_not_serve_is_refused_even_for_a_cached_page(client):
    url = ArticleFactory().get_absolute_url()
    get(client, url)

    assert client.get(url, HTTP_HOST="evil.example").status_code == 400


# Releases ---------------------------------------------------------------------------------------


def test_a_new_release_does_not_serve_pages_the_previous_one_cached(client, monkeypatch):
    url = ArticleFactory().get_absolute_url()
    get(client, url)
    assert get(client, url)["X-Page-Cache"] == "hit"

    monkeypatch.setattr(page_cache, "release", lambda: "the-next-release")

    assert get(client, url)["X-Page-Cache"] == "miss"
    assert get(client, url)["X-Page-Cache"] == "hit"


@pytest.fixture
def release_of(settings, tmp_path):
    """The release digest of a project tree in tmp_path."""
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "staticfiles"

    def release_of(files):
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        page_cache.release.cache_clear()
        return page_cache.release()

    yield release_of
    page_cache.release.cache_clear()


def test_release_changes_with_code_templates_and_static_files_not_migrations(release_of):
    first = release_of(
        {"articles/views.py": "v1", "templates/base.html": "b1", "staticfiles/staticfiles.json": "{}"}
    )

    assert release_of({}) == first
    assert release_of({"articles/migrations/0099_x.py": "m"}) == first
    assert release_of({"articles/views.py": "v2"}) != first
    assert release_of({"templates/base.html": "b2"}) != release_of({"templates/base.html": "b3"})
    assert release_of({"staticfiles/staticfiles.json": '{"css": 1}'}) != release_of(
        {"staticfiles/staticfiles.json": "{}"}
    )


# Failures ---------------------------------------------------------------------------------------


def test_pages_are_served_when_the_cache_is_down(client, settings):
    article = ArticleFactory()
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    settings.CACHES = {"default": unreachable, "pages": unreachable}
    settings.PAGE_CACHE_VERSIONS_FILE = None

    response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert "X-Page-Cache" not in response
