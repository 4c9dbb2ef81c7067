"""The embedded default (`make run`: SQLite, each process's own memory for its caches) is right
across processes: a change made by a management command, `manage.py shell` or another server
process on the same site is seen by the running server on the next page view, never an hour later.

Real gunicorn servers and real `manage.py` processes on a scratch copy of what `make run` prepares.
"""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.servers import BASE_DIR, EmbeddedAppServer, EmbeddedSite, serving

SLUG = "what-is-scalp-micropigmentation"  # seed content, open for comments
ARTICLE = f"/articles/{SLUG}/"


@pytest.fixture
def site(tmp_path):
    return EmbeddedSite(tmp_path)


@pytest.fixture
def servers(site):
    """Two gunicorn servers on the one site, as two `make run` processes would be."""
    with serving(EmbeddedAppServer(site), EmbeddedAppServer(site)) as started:
        yield started


def manage(site, *args):
    """A management command in a process of its own, on the site's settings."""
    finished = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=site.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return finished.stdout


def shell(site, code):
    return manage(site, "shell", "-c", code)


def page(server, path):
    with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as response:
        return response.read().decode(), response.headers.get("X-Page-Cache")


def cached_everywhere(servers, path):
    """Read `path` until each server serves it from its own cache; its HTML."""
    for server in servers:
        page(server, path)
        html, outcome = page(server, path)
        assert outcome == "hit"
    return html


def test_an_erasure_by_command_reaches_readers_of_every_server_at_once(site, servers):
    shell(
        site,
        "from articles.models import Article; from comments.models import Comment; "
        f"Comment.objects.create(article=Article.objects.get(slug={SLUG!r}), author_name='Jane Erasable', "
        "author_email='jane@example.com', body='Is redness normal after a week?', status='approved')",
    )
    assert "Jane Erasable" in cached_everywhere(servers, ARTICLE)

    assert "Anonymized 1 comment" in manage(site, "erase_commenter", "JANE@example.com")

    for server in servers:
        html, outcome = page(server, ARTICLE)
        assert outcome == "miss"
        assert "Jane Erasable" not in html
        assert "Is redness normal after a week?" in html


def test_an_article_unpublished_from_the_shell_is_gone_from_every_server_and_list(site, servers):
    cached_everywhere(servers, ARTICLE)
    links_before = cached_everywhere(servers, "/").count(f'href="{ARTICLE}"')

    unpublish = f"Article.objects.filter(slug={SLUG!r}).update(status='draft')"
    shell(site, f"from articles.models import Article; {unpublish}")

    for server in servers:
        with pytest.raises(urllib.error.HTTPError) as gone:
            page(server, ARTICLE)
        assert gone.value.code == 404
        # The site's menu still links to it; the list of articles no longer does.
        assert page(server, "/")[0].count(f'href="{ARTICLE}"') < links_before


def test_a_page_nothing_changed_stays_cached_after_a_command(site, servers):
    cached_everywhere(servers, ARTICLE)

    manage(site, "purge_comment_ips", "--days", "30")

    assert all(page(server, ARTICLE)[1] == "hit" for server in servers)
