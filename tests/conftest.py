import os

import pytest
from aiosmtpd.controller import Controller
from django.core.signals import request_started
from django.test import Client
from hypothesis import settings as hypothesis_settings

from articles import missing_paths
from tests.caches import empty_caches, redis_caches
from tests.factories import ArticleFactory, AuthorFactory, UserFactory
from tests.servers import Inbox, RedisServer, free_port

# In CI (CI=true) property-based tests draw the same examples every run, so a red build
# is always reproducible; locally they explore new examples each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests render templates without running collectstatic first.

    The hashed manifest storage that production uses is tested on its own in
    test_static_files.py.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path_factory):
    """Uploaded images go to a folder of the test's own, never the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def tests_versions_file(tmp_path_factory):
    return str(tmp_path_factory.mktemp("pagecache") / "versions")


@pytest.fixture(autouse=True)
def versions_file_of_the_tests_own(settings, tests_versions_file):
    """Pages' versions in a file of the test run's own, not the checkout's .pagecache-versions:
    a `make run` or a manage.py command working beside the tests changes those versions (as
    it should: every process of the machine sees them), which would make a test's second
    view a miss."""
    if settings.PAGE_CACHE_VERSIONS_FILE:
        settings.PAGE_CACHE_VERSIONS_FILE = tests_versions_file


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: no rate-limit counts or cached pages carried over."""
    empty_caches()
    yield
    empty_caches()


@pytest.fixture(scope="session", autouse=True)
def no_missing_paths_writer():
    """The 404 report's writer thread never runs in the test process.

    A live server would start it, and it would then write counts from any test into whichever
    test's database is open at that moment, from its own connection (which SQLite's shared
    in-memory test database answers with "database table is locked"). Tests of the writer make
    their own Writer.
    """
    request_started.disconnect(dispatch_uid="missing-paths-writer")
    yield
    missing_paths.connect_signals()


@pytest.fixture(autouse=True)
def empty_missing_paths_tally(monkeypatch):
    """Each test counts its own missing paths, none carried over from the test before."""
    monkeypatch.setattr(missing_paths, "tally", missing_paths.Tally())


@pytest.fixture
def persistent_redis(tmp_path, settings):
    """A Redis of the test's own that keeps its data on disk, as the site's page cache."""
    redis = RedisServer(tmp_path)
    redis.start()
    settings.CACHES = redis_caches(redis.url)
    settings.PAGE_CACHE_VERSIONS_FILE = None  # as settings.py has it with a Redis
    settings.PAGE_CACHE_RETRY_SECONDS = 60  # the background retry stays out of these tests
    yield redis
    redis.stop()


@pytest.fixture
def article(db):
    """A published article with three side effects."""
    return ArticleFactory(side_effects=3)


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_staff=True, groups=["Editors"])


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", is_staff=True, groups=["Moderators"])


@pytest.fixture
def editor_client(editor):
    """A browser logged in as an editor (its own client, apart from the anonymous `client`)."""
    editor_browser = Client()
    editor_browser.force_login(editor)
    return editor_browser


@pytest.fixture
def moderator_client(moderator):
    """A browser logged in as a moderator (its own client, apart from the anonymous `client`)."""
    moderator_browser = Client()
    moderator_browser.force_login(moderator)
    return moderator_browser


@pytest.fixture
def reviewer(db):
    """A staff account in Reviewers, acting as the author profile “Dr Ada Reviewer”."""
    user = UserFactory(username="reviewer", email="ada@clinic.example", is_staff=True, groups=["Reviewers"])
    AuthorFactory(name="Dr Ada Reviewer", slug="ada-reviewer", credentials="MD, dermatologist", user=user)
    return user


@pytest.fixture
def reviewer_client(reviewer):
    """A browser logged in as the reviewer."""
    reviewer_browser = Client()
    reviewer_browser.force_login(reviewer)
    return reviewer_browser


@pytest.fixture
def inbox():
    """A real SMTP server on a free port, stopped after the test."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()
