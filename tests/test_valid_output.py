"""Valid output that validators and audits check: the admin login page's heading, and the
CSRF cookie's Secure flag behind TLS on every way a page can set it."""

import ipaddress
import re

import pytest
from django.test import Client

from tests.factories import ArticleFactory, UserFactory, comment_form_data

pytestmark = pytest.mark.django_db


# The admin login page --------------------------------------------------------------------------


def test_admin_login_page_has_one_visible_heading_naming_the_site(client):
    html = client.get("/admin/login/").content.decode()

    headings = re.findall(r"<h1([^>]*)>(.*?)</h1>", html, re.DOTALL)
    assert [text.strip() for _, text in headings] == ["Log in to smpinfo"]
    assert "hidden" not in headings[0][0]  # neither hidden, aria-hidden nor visually-hidden


def test_admin_login_page_keeps_its_heading_when_the_login_fails(client):
    UserFactory(username="mia", is_staff=True)

    response = client.post("/admin/login/?next=/admin/", {"username": "mia", "password": "wrong"})

    assert response.status_code == 200
    assert "<h1>Log in to smpinfo</h1>" in response.content.decode()


# The CSRF cookie behind TLS --------------------------------------------------------------------


@pytest.fixture
def https(settings):
    """The settings DJANGO_HTTPS=1 gives (the HTTPS group of smpinfo/settings.py)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.TRUSTED_PROXY_ADDRESSES = [ipaddress.ip_network("127.0.0.1")]  # the test client's proxy


def tls_browser():
    """A reader's browser behind the TLS proxy, with CSRF checks as a real browser gets them."""
    return Client(enforce_csrf_checks=True, HTTP_X_FORWARDED_PROTO="https", HTTP_ORIGIN="https://testserver")


def csrf_cookie(response):
    cookie = response.cookies.get("csrftoken")
    assert cookie is not None, f"no csrftoken cookie set by {response.request['PATH_INFO']}"
    return cookie


def form_csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def open_article(db):
    return ArticleFactory(comments_open=True, side_effects=1)


def test_csrf_cookie_is_secure_on_an_article_page_built_and_served_from_the_page_cache(https, open_article):
    built = tls_browser().get(open_article.get_absolute_url(), secure=True)
    cached = tls_browser().get(open_article.get_absolute_url(), secure=True)

    assert (built["X-Page-Cache"], cached["X-Page-Cache"]) == ("miss", "hit")
    assert csrf_cookie(built)["secure"] is True
    assert csrf_cookie(cached)["secure"] is True


def test_csrf_cookie_is_secure_on_a_revalidated_article_page(https, open_article):
    first = tls_browser().get(open_article.get_absolute_url(), secure=True)

    browser = tls_browser()
    revalidated = browser.get(open_article.get_absolute_url(), secure=True, HTTP_IF_NONE_MATCH=first["ETag"])

    assert revalidated.status_code == 304
    assert csrf_cookie(revalidated)["secure"] is True


def test_csrf_cookie_is_secure_on_a_comment_form_shown_again_with_errors(https, open_article):
    browser = tls_browser()
    page = browser.get(open_article.get_absolute_url(), secure=True)

    data = comment_form_data(open_article, author_email="not an email")
    data["csrfmiddlewaretoken"] = form_csrf_token(page)
    response = browser.post(f"/articles/{open_article.slug}/comments/", data, secure=True)

    assert response.status_code == 400
    assert csrf_cookie(response)["secure"] is True


@pytest.mark.parametrize("method", ["get", "post"])
def test_csrf_cookie_is_secure_on_the_admin_login_page(https, method):
    browser = tls_browser()
    page = browser.get("/admin/login/", secure=True)
    if method == "post":
        data = {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": form_csrf_token(page)}
        page = browser.post("/admin/login/", data, secure=True)

    assert page.status_code == 200
    assert csrf_cookie(page)["secure"] is True
    assert page.cookies.get("sessionid") is None or page.cookies["sessionid"]["secure"] is True


def test_plain_http_is_redirected_before_any_csrf_cookie_is_set(https, open_article):
    response = Client().get(open_article.get_absolute_url())

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert "csrftoken" not in response.cookies
