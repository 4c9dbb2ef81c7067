"""Two gunicorn app servers, one PostgreSQL, one Redis: a change made through one is
visible through the other on the next request (the page cache is shared and invalidated)."""

import pytest
from django.db import connection

from comments.models import Comment
from tests.factories import PASSWORD, ArticleFactory, CommentFactory, UserFactory, ensure_roles
from tests.servers import REDIS_URL, AppServer, Browser, csrf_token, redis_answers, serving

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it"
    ),
    pytest.mark.skipif(not redis_answers(), reason="needs Redis at 127.0.0.1:6379; CI starts it"),
]


@pytest.fixture
def servers():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with serving(AppServer(), AppServer()) as started:
        yield started


def test_comment_approved_through_one_server_is_visible_through_the_other(servers, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the servers use
    ensure_roles()
    UserFactory(username="mia", is_staff=True, groups=["Moderators"])
    article = ArticleFactory(title="Shared cache article")
    comment = CommentFactory(article=article, body="Approved on server A", status=Comment.Status.PENDING)
    server_a, server_b = servers
    reader = Browser()

    before, headers = reader.get(f"{server_b.url}{article.get_absolute_url()}")
    assert "Approved on server A" not in before
    _, headers = reader.get(f"{server_b.url}{article.get_absolute_url()}")
    assert headers["X-Page-Cache"] == "hit"

    moderator = Browser()
    login_page, _ = moderator.get(f"{server_a.url}/admin/login/")
    moderator.post(
        f"{server_a.url}/admin/login/?next=/admin/",
        {
            "username": "mia",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf_token(login_page),
            "next": "/admin/",
        },
    )
    queue, _ = moderator.get(f"{server_a.url}/admin/comments/comment/")
    assert "Approved on server A" in queue
    moderator.post(
        f"{server_a.url}/admin/comments/comment/",
        {
            "action": "approve_comments",
            "_selected_action": [str(comment.pk)],
            "csrfmiddlewaretoken": csrf_token(queue),
        },
    )

    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED
    after, headers = reader.get(f"{server_b.url}{article.get_absolute_url()}")
    assert "Approved on server A" in after
    assert headers["X-Page-Cache"] == "miss"
