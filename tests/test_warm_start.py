"""A process of the site starts warm: what its first request would otherwise compile is done
when the application loads (smpinfo.warmup), once in gunicorn's master, before any fork."""

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.template.base import Template
from django.urls import clear_url_caches
from django.urls.resolvers import URLResolver

from articles.addresses import address_parts
from articles.context_processors import addresses
from articles.models import content_revision
from comments.forms import blank_form_markup
from comments.thread import comment_link_prefix
from smpinfo.warmup import warm
from tests.factories import CommentFactory

ROOT = Path(__file__).resolve().parent.parent


def as_in_a_new_process():
    """Forget what this test process has compiled and made so far, as a new worker knows none of it."""
    for engine in [*engines.all(), get_default_renderer().engine]:
        for loader in engine.engine.template_loaders:
            loader.reset()
    clear_url_caches()
    for made_once in (addresses, address_parts, comment_link_prefix, blank_form_markup, content_revision):
        made_once.cache_clear()


def counted(cls, method):
    """`cls.method` still run, each call recorded."""
    return mock.patch.object(cls, method, autospec=True, side_effect=getattr(cls, method))


@pytest.fixture
def warmed():
    as_in_a_new_process()
    warm()
    yield
    gc.unfreeze()  # the test process goes on collecting what it made before


@pytest.mark.django_db
def test_a_warm_process_compiles_no_template_nor_url_pattern_for_a_page(client, settings, article, warmed):
    settings.PAGE_CACHE_SECONDS = 0  # rendered by this very request
    CommentFactory(article=article, body="Rendered in the thread")

    with counted(Template, "compile_nodelist") as compiled, counted(URLResolver, "_populate") as populated:
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert "Rendered in the thread" in response.content.decode()
    assert [call.args[0].origin.template_name for call in compiled.call_args_list] == []
    assert populated.call_count == 0


def test_without_the_warm_up_the_page_compiles_its_templates(client, settings, db, article):
    """The count above can see a compile: a new process compiles the page's templates."""
    settings.PAGE_CACHE_SECONDS = 0
    as_in_a_new_process()

    with counted(Template, "compile_nodelist") as compiled:
        assert client.get(article.get_absolute_url()).status_code == 200

    compiled_names = [call.args[0].origin.template_name for call in compiled.call_args_list]
    assert "articles/article_detail.html" in compiled_names


def load_the_application(static_root):
    """Import smpinfo.wsgi in a new process, as gunicorn's master does, with neither the
    database nor Redis reachable and the static files looked for in `static_root`."""
    unreachable = {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "DJANGO_SECRET_KEY": "warm-start-test-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "smpinfo.settings",
    }
    site_settings = ("DJANGO_", "DATABASE", "REDIS", "CACHE_URL")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(site_settings)}
    program = (
        "from django.conf import settings\n"
        f"settings.STATIC_ROOT = {str(static_root)!r}\n"
        "import smpinfo.wsgi\n"
        "print('loaded')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**environment, **unreachable},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_loading_the_application_needs_no_database_and_no_cache(tmp_path):
    """Before the fork nothing may open a connection the workers would share: with neither
    the database nor Redis reachable, the application still loads."""
    loaded = load_the_application(static_root=tmp_path)

    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.splitlines()[-1] == "loaded"


def test_static_files_not_collected_are_named_at_load_not_a_refusal_to_start(tmp_path):
    """A server started before `collectstatic` (an empty static root) still loads, and its
    log says what is missing and what to run, with no traceback."""
    loaded = load_the_application(static_root=tmp_path)

    assert loaded.returncode == 0, loaded.stderr[-2000:]
    *logged, last = loaded.stdout.splitlines()
    assert last == "loaded"
    assert [json.loads(line)["message"] for line in logged] == [
        "Missing staticfiles manifest entry for 'favicon.svg'. "
        "The static files are not collected: run `manage.py collectstatic`."
    ]
    assert "Traceback" not in loaded.stdout + loaded.stderr
