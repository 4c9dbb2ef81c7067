"""Security headers, admin login throttling, structured logs, and staying up through faults."""

import json
import logging
from pathlib import Path

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from comments.models import Comment
from tests.commands import manage
from tests.factories import PASSWORD, ArticleFactory, UserFactory, comment_form_data

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent


# Headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/search/?q=redness", "/admin/login/"])
def test_pages_carry_a_content_security_policy_without_inline_scripts(client, url):
    ArticleFactory()

    policy = client.get(url)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_article_page_has_no_inline_executable_script(client):
    article = ArticleFactory()

    html = client.get(article.get_absolute_url()).content.decode()

    assert html.count("<script") == html.count('<script type="application/ld+json">')


def test_pages_carry_the_other_security_headers(client):
    response = client.get("/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/", "/articles/no-such-article/", "/search/?q=redness"])
def test_a_host_the_site_does_not_serve_gets_the_styled_400_page(client, url):
    response = client.get(url, HTTP_HOST="evil.example")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Bad request" in html
    assert "evil.example" not in html


def test_production_settings_turn_on_https_protections():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = manage("shell", "-c", code, DJANGO_HTTPS="1", DJANGO_SECRET_KEY="x" * 20 + "7Gh#2kLp9!qRz" * 4)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True 31536000"


# Admin login throttling ------------------------------------------------------------------------


def login(client, username, password, address="198.51.100.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_admin_login_is_locked_after_repeated_failures_with_a_clear_message(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="mia", is_staff=True)
    browser = Client()

    failures = [login(browser, "mia", "wrong").status_code for _ in range(2)]
    locking = login(browser, "mia", "wrong")
    with_right_password = login(browser, "mia", PASSWORD)

    assert failures == [200, 200]
    assert locking.status_code == 429
    assert with_right_password.status_code == 429
    assert "Too many login attempts" in with_right_password.content.decode()
    assert "wait 15 minutes" in with_right_password.content.decode()
    assert with_right_password["Retry-After"] == "900"


def test_lockout_does_not_block_another_address_or_another_account(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="mia", is_staff=True)
    UserFactory(username="max", is_staff=True)
    for _ in range(2):
        login(Client(), "mia", "wrong")

    assert login(Client(), "mia", PASSWORD, address="203.0.113.50").status_code == 302
    assert login(Client(), "max", PASSWORD).status_code == 302


def test_successful_login_resets_the_failure_count(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="mia", is_staff=True)
    for _ in range(2):
        login(Client(), "mia", "wrong")
    assert login(Client(), "mia", PASSWORD).status_code == 302

    for _ in range(2):
        login(Client(), "mia", "wrong")

    assert login(Client(), "mia", PASSWORD).status_code == 302


# Structured logs ---------------------------------------------------------------------------------


def json_lines(caplog):
    from django.conf import settings as django_settings

    formatter_config = dict(django_settings.LOGGING["formatters"]["json"])
    factory = formatter_config.pop("()")
    from django.utils.module_loading import import_string

    formatter = import_string(factory)(**formatter_config)
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_each_request_is_one_json_log_line_without_personal_data(client, caplog, settings):
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    article = ArticleFactory(comments_open=True)

    with caplog.at_level(logging.INFO, logger="smpinfo.request"):
        client.get("/search/?q=private+words")
        client.post(
            f"/articles/{article.slug}/comments/",
            comment_form_data(article, author_name="Sam Secret", author_email="sam.secret@example.org"),
            REMOTE_ADDR="203.0.113.77",
        )

    lines = [line for line in json_lines(caplog) if line["logger"] == "smpinfo.request"]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/search/", 200),
        ("POST", f"/articles/{article.slug}/comments/", 303),
    ]
    assert all(isinstance(line["duration_ms"], float) for line in lines)
    dumped = json.dumps(json_lines(caplog))
    for personal in ("private", "Sam Secret", "sam.secret", "203.0.113.77"):
        assert personal not in dumped


# Faults ----------------------------------------------------------------------------------------------


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, sql, params=None):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)


def test_pages_answer_a_styled_503_when_the_database_is_down(client, settings, database_down):
    settings.PAGE_CACHE_SECONDS = 0

    response = client.get("/articles/anything/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Back in a moment" in html
    assert "Traceback" not in html
    assert "OperationalError" not in html


def test_comment_post_answers_503_and_gives_the_reader_their_text_back(client, database_down):
    response = client.post(
        "/articles/some-article/comments/",
        {"author_name": "Sam", "author_email": "sam@example.org", "body": "My long <b>careful</b> comment"},
    )

    assert response.status_code == 503
    html = response.content.decode()
    assert "Your comment was not saved." in html
    assert "My long &lt;b&gt;careful&lt;/b&gt; comment" in html


def test_comments_are_saved_when_the_cache_is_down(client, settings, caplog):
    article = ArticleFactory(comments_open=True)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    with caplog.at_level(logging.ERROR):
        response = client.post(f"/articles/{article.slug}/comments/", comment_form_data(article, body="Kept"))

    assert response.status_code == 303
    assert Comment.objects.get().body == "Kept"
    assert "Comment rate limit skipped: the cache did not answer" in caplog.text


def test_unexpected_errors_show_the_styled_500_page_without_a_traceback(client, monkeypatch):
    from articles import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "search_articles", broken)
    client.raise_request_exception = False

    response = client.get("/search/?q=x")

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "RuntimeError" not in response.content.decode()


def test_code_and_test_client_logins_still_work_with_throttling_on():
    UserFactory(username="mia", is_staff=True)
    browser = Client()

    assert browser.login(username="mia", password="wrong") is False
    assert browser.login(username="mia", password=PASSWORD) is True
    assert browser.get("/admin/").status_code == 200
