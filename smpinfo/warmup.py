"""What every process of the site would otherwise do on its first request, done once when
the application is loaded (smpinfo/wsgi.py).

A process's first article page cost about 150 ms of CPU more than the next ones: the URL
patterns compiled and their views imported, the template tag libraries imported, the
templates read and compiled, the blank comment form rendered. After a deploy every worker
paid it at once, in the burst of requests that finds no page cached (bench/RESULTS.md, "The
burst after a release"). gunicorn loads the application in its master before it forks the
workers (`preload_app`), so this is done once and every worker starts with it.

Nothing here touches the database or the cache: a connection opened before the fork would
be shared by every worker.
"""

import gc
import logging
from pathlib import Path

from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.template.utils import get_app_template_dirs
from django.urls import get_resolver, get_script_prefix, get_urlconf

from articles.addresses import SLUG_PAGES, address_parts
from articles.context_processors import addresses
from articles.models import content_revision
from comments.forms import blank_form_markup
from comments.thread import comment_link_prefix
from pagecache.store import release
from smpinfo.middleware import admin_prefix

logger = logging.getLogger(__name__)


def warm():
    """Compile the URL patterns and every template, and make the values each process makes
    once for its pages (addresses, digests, the blank comment form). Then move all of it out
    of the garbage collector's reach (gc.freeze), so that the collections of the workers
    forked from this process do not write to, and so copy, the memory they share."""
    get_resolver().reverse_dict  # noqa: B018 (building it compiles every pattern, included ones too)
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            for name in template_names(engine):
                engine.get_template(name)
    prefix, urlconf = get_script_prefix(), get_urlconf()
    try:
        addresses(prefix, urlconf)
    except ValueError as missing:  # the manifest storage's "Missing staticfiles manifest entry"
        # Not a reason to refuse to start: the pages say so until the files are collected.
        logger.error("%s. The static files are not collected: run `manage.py collectstatic`.", missing)
    for view in SLUG_PAGES:
        address_parts(view, prefix, urlconf)
    comment_link_prefix(prefix, urlconf)
    admin_prefix(urlconf)
    blank_form_markup()
    content_revision()
    release()
    gc.freeze()


def template_names(engine):
    """The names of the templates in `engine`'s directories and its apps' `templates/`."""
    folders = [*engine.engine.dirs, *(get_app_template_dirs("templates") if engine.engine.app_dirs else ())]
    names = set()
    for folder in map(Path, folders):
        names.update(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    return sorted(names)
