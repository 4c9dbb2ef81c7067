"""The reader's address behind reverse proxies: taken from X-Forwarded-For only through the
number of proxies the site trusts (DJANGO_TRUSTED_PROXIES) and only from the proxies it names
(FORWARDED_ALLOW_IPS), and the same for comments, the comment rate limit and login throttling."""

import ipaddress

import pytest
from django.test import Client

from comments.models import Comment
from tests.factories import PASSWORD, ArticleFactory, UserFactory, post_comment

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def proxy_named(settings):
    """FORWARDED_ALLOW_IPS=10.0.0.5: forwarded headers are read from that peer only."""
    settings.TRUSTED_PROXY_ADDRESSES = [ipaddress.ip_network(PROXY)]


@pytest.fixture
def open_article():
    return ArticleFactory(comments_open=True)


def post_through_proxy(article, forwarded_for, client=None, **fields):
    return post_comment(
        client or Client(), article, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}, **fields
    )


def test_behind_a_trusted_proxy_a_comment_keeps_the_address_the_proxy_saw(settings, open_article):
    settings.TRUSTED_PROXY_COUNT = 1

    response = post_through_proxy(open_article, "198.51.100.66, 203.0.113.7")

    assert response.status_code == 303
    assert Comment.objects.get().ip_address == "203.0.113.7"


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings, open_article):
    settings.TRUSTED_PROXY_COUNT = 0

    post_through_proxy(open_article, "203.0.113.7")

    assert Comment.objects.get().ip_address == PROXY


@pytest.mark.parametrize("forwarded_for", ["", "not-an-address", "203.0.113.7, 999.1.1.1"])
def test_a_missing_or_malformed_forwarded_address_keeps_the_connections_address(
    settings, open_article, forwarded_for
):
    settings.TRUSTED_PROXY_COUNT = 1

    response = post_through_proxy(open_article, forwarded_for)

    assert response.status_code == 303
    assert Comment.objects.get().ip_address == PROXY


def test_readers_behind_the_same_proxy_have_their_own_rate_limits(settings, open_article):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.COMMENTS_RATE_LIMIT = "1/10m"

    first = post_through_proxy(open_article, "203.0.113.7", body="First comment.")
    second = post_through_proxy(open_article, "203.0.113.7", body="Second comment.")
    other_reader = post_through_proxy(open_article, "203.0.113.8", body="Another reader.")

    assert [first.status_code, second.status_code, other_reader.status_code] == [303, 429, 303]


def test_login_throttling_locks_out_the_forwarded_address_only(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="mia", is_staff=True)

    def login(address, password):
        return Client().post(
            "/admin/login/?next=/admin/",
            {"username": "mia", "password": password, "next": "/admin/"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        )

    for _ in range(2):
        login("203.0.113.7", "wrong")

    assert login("203.0.113.7", PASSWORD).status_code == 429
    assert login("203.0.113.8", PASSWORD).status_code == 302


def test_forwarded_headers_from_a_peer_that_is_not_the_named_proxy_are_ignored(settings, open_article):
    settings.TRUSTED_PROXY_COUNT = 1

    response = post_comment(
        Client(), open_article, {"REMOTE_ADDR": "192.0.2.9", "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    )

    assert response.status_code == 303
    assert Comment.objects.get().ip_address == "192.0.2.9"


def test_a_forged_https_header_from_a_reader_does_not_make_the_request_secure(settings, client):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="192.0.2.9")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
