"""Keys, versions and entries of the page cache: what a page depends on and when it is current.

Every cached page records the versions of the scopes it depends on, and is served
only while they are all current. A write that changes what readers see gives its
scopes new versions (`pages_changed`) once its transaction commits, which retires
every page built on the old ones at once, all pages of a paginated list included.
Changes that come with time, not a write, bound how long a page may be cached.
"""

import hashlib
import logging
import uuid
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.module_loading import import_string

from pagecache import outages
from pagecache.tracking import mirror_of
from pagecache.versions import version_file

logger = logging.getLogger(__name__)

KEY_PREFIX = "readers-page"
NO_TIMED_CHANGE = "none"


def page_cache():
    """The cache that holds pages and versions: PAGE_CACHE_ALIAS of CACHES ("default")."""
    return caches[page_cache_alias()]


def page_cache_alias():
    return getattr(settings, "PAGE_CACHE_ALIAS", DEFAULT_CACHE_ALIAS)


def path_scope(url):
    """The scope of the page at `url` (and its other pages, `?page=N`), as `reverse()` or
    `get_absolute_url()` give it: the site's own prefix, when it is mounted under one, is
    not part of the scope."""
    prefix = get_script_prefix()
    if prefix != "/" and url.startswith(prefix):
        url = url[len(prefix) - 1 :]
    return request_path_scope(url)


def request_path_scope(path_info):
    """The scope of the page a request asks for, from its path within the site."""
    return f"path:{path_info}"


def version_key(scope):
    return f"{KEY_PREFIX}:version:{scope}"


def site_scopes():
    """The scopes every cached page depends on (PAGE_CACHE_SCOPES)."""
    return list(getattr(settings, "PAGE_CACHE_SCOPES", {}))


def page_key(request):
    """The key of the page a request asks for.

    The address the reader used is part of it (pages carry absolute URLs: canonical
    link, Open Graph, structured data): scheme, host (one of ALLOWED_HOSTS), the prefix
    the site is mounted under and the path within it, each apart, so that a prefix
    cannot pass for part of a path. Of the query string only the parameters named in
    PAGE_CACHE_QUERY_PARAMETERS are, so made-up query strings cannot fill the cache.
    """
    parameters = "|".join(request.GET.get(name, "") for name in query_parameters())
    prefix = request.META.get("SCRIPT_NAME", "")
    address = f"{request.scheme}://{request.get_host()}|{prefix}|{request.path_info}|{parameters}"
    return address_key(release(), address)


@lru_cache(maxsize=4096)
def address_key(release, address):
    return f"{KEY_PREFIX}:page:{release}:{hashlib.sha256(address.encode()).hexdigest()}"


def query_parameters():
    return getattr(settings, "PAGE_CACHE_QUERY_PARAMETERS", ["page"])


def page_and_version_keys(request):
    """The page's key, then the version keys of every scope a page can depend on."""
    return [page_key(request), *site_version_keys(), version_key(request_path_scope(request.path_info))]


@lru_cache(maxsize=1)
def site_version_keys():
    return tuple(version_key(scope) for scope in site_scopes())


# Releases -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def release():
    """A digest of what makes a page besides the data: PAGE_CACHE_RELEASE_FILES (glob
    patterns under BASE_DIR, migrations left out) and the static files' hashed names.

    Pages are cached per release, so after a deploy no app server serves a page built
    by the previous release, and during a rolling deploy each release keeps its own.
    """
    base = Path(settings.BASE_DIR)
    patterns = getattr(settings, "PAGE_CACHE_RELEASE_FILES", ["templates/**/*.*"])
    files = {path for pattern in patterns for path in base.glob(pattern)}
    if getattr(settings, "STATIC_ROOT", None):
        files.add(Path(settings.STATIC_ROOT) / "staticfiles.json")
    digest = hashlib.sha256()
    for path in sorted(files):
        if path.is_file() and "migrations" not in path.parts:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


# Invalidation ----------------------------------------------------------------------


def pages_changed(*scopes):
    """Give each scope a new version once the current transaction commits.

    Not before: a reader between the change and the commit would cache the old
    content under the new version. A cache failure is never raised: the invalidation
    is recorded and applied once the cache answers again (pagecache.outages).
    """
    if scopes:
        transaction.on_commit(lambda: new_versions(scopes))


def new_versions(scopes):
    scopes = sorted(set(scopes))
    if not outages.is_skipped():
        try:
            set_new_versions(scopes)
            return
        except Exception:
            outages.cache_failed("Page cache: could not retire the pages of %s", ", ".join(scopes))
    outages.record_missed(scopes, set_new_versions)


def set_new_versions(scopes):
    shared = shared_versions()
    if shared is not None:
        shared.increment([version_key(scope) for scope in scopes])
    else:
        page_cache().set_many({version_key(scope): uuid.uuid4().hex for scope in scopes}, None)


def shared_versions():
    """The version file every process of the machine shares (PAGE_CACHE_VERSIONS_FILE), or
    None when versions live in the page cache with the pages (a cache every process shares)."""
    path = getattr(settings, "PAGE_CACHE_VERSIONS_FILE", None)
    return version_file(str(path)) if path else None


def read_versions(keys):
    """{version key: version} of the keys that have one, wherever versions are kept."""
    shared = shared_versions()
    return shared.read(keys) if shared is not None else page_cache().get_many(keys)


def page_and_versions(keys):
    """{key: value} of a page key and version keys, as one get_many of the page cache gives them.

    On Redis, from this process's memory when every one is there and Redis has pushed no
    change of them (pagecache.tracking): no round trip.
    """
    if shared_versions() is None:
        cache = page_cache()
        mirror = mirror_of(cache, page_cache_alias(), f"{KEY_PREFIX}:")
        if mirror is None:
            return cache.get_many(keys)
        found, token = mirror.lookup(keys)
        if found is None:
            found = cache.get_many(keys)
            mirror.keep(found, token)
        return found
    found = read_versions(keys[1:])
    page = page_cache().get(keys[0])
    if page is not None:
        found[keys[0]] = page
    return found


def current_versions(request, keys):
    """{version key: version} for the keys, creating the versions not set yet.

    Versions the middleware already read for this request (a miss) are not read again.
    """
    known = getattr(request, "page_cache_versions", {})
    found = {key: known[key] for key in keys if key in known}
    if len(found) < len(keys):
        found.update(read_versions([key for key in keys if key not in found]))
    missing = {key: uuid.uuid4().hex for key in keys if key not in found}
    if missing:
        page_cache().set_many(missing, None)
        found.update(missing)
    return {key: found[key] for key in keys}


# Changes that come with time -------------------------------------------------------


@lru_cache(maxsize=1)
def timed_change_functions():
    """{scope: function} from PAGE_CACHE_SCOPES, for the scopes whose pages change with time."""
    scopes = getattr(settings, "PAGE_CACHE_SCOPES", {})
    return {scope: import_setting("PAGE_CACHE_SCOPES", scope, path) for scope, path in scopes.items() if path}


def import_setting(setting, key, path):
    """The function that `setting[key]` names by dotted path; a clear error if there is none."""
    try:
        return import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(f"{setting}[{key!r}]: cannot import {path!r} ({error}).") from None


def next_timed_change(versions, extra=None):
    """The next moment a page may change without a write: a site scope's, or `extra`.

    A scope's next moment only changes when the scope does, so it is cached under the
    scope's current version.
    """
    moments = [extra] if extra is not None else []
    for scope, next_change in timed_change_functions().items():
        key = f"{KEY_PREFIX}:next-change:{scope}:{versions.get(version_key(scope))}"
        moment = page_cache().get(key)
        if moment is None or (moment != NO_TIMED_CHANGE and moment <= timezone.now()):
            moment = next_change() or NO_TIMED_CHANGE
            page_cache().set(key, moment, settings.PAGE_CACHE_SECONDS)
        if moment != NO_TIMED_CHANGE:
            moments.append(moment)
    return min(moments) if moments else None


def cache_seconds(changes_at):
    timeout = settings.PAGE_CACHE_SECONDS
    if changes_at is not None:
        timeout = min(timeout, (changes_at - timezone.now()) / timedelta(seconds=1))
    return max(int(timeout), 0)


@receiver(setting_changed)
def forget_configuration(setting, **kwargs):
    if setting == "PAGE_CACHE_SCOPES":
        timed_change_functions.cache_clear()
        site_version_keys.cache_clear()
    if setting in ("PAGE_CACHE_RELEASE_FILES", "BASE_DIR", "STATIC_ROOT"):
        release.cache_clear()
