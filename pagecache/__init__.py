"""A page cache for anonymous readers that is never stale, as a reusable Django app.

It knows no other app of the project. What varies per site comes from settings:

- `PAGE_CACHE_SECONDS`: how long a page may stay cached at most (0 turns it off);
- `PAGE_CACHE_ALIAS`: the cache of CACHES that holds pages ("default"); give it a cache
  of its own so that pages never evict what else the site keeps in a cache (in local
  memory, `pagecache.backends.BoundedLocMemCache` bounds it by bytes);
- `PAGE_CACHE_RETRY_SECONDS`: how long pages are served uncached after the cache failed;
- `PAGE_CACHE_VERSIONS_FILE`: when the cache is each process's own memory, a file that
  keeps the pages' versions for every process of the machine (pagecache.versions), so a
  change made by any process (a command, another worker) retires the pages of all;
- `PAGE_CACHE_TRACKING` (on by default): on a django-redis cache, each process keeps
  the pages and versions it read, and Redis pushes every change of them (pagecache.tracking),
  so a hit makes no round trip; `PAGE_CACHE_TRACKING_CHECK_SECONDS` (1) and
  `PAGE_CACHE_TRACKING_MAX_MB` (64) tune it;
- `PAGE_CACHE_SCOPES`: the scopes every cached page depends on, each with the dotted
  path of a function that tells the next moment its pages change without a write
  (a scheduled publication), or None;
- `PAGE_CACHE_HOLES`: form fields whose value is personal or time-bound (a CSRF token),
  cut out of a stored page and filled in per request by the function named for each;
- `PAGE_CACHE_QUERY_PARAMETERS`: the query parameters that make another page (a view
  names the value it shows with `page_shows(request, page=n)`; other values are not stored);
- `PAGE_CACHE_RELEASE_FILES`: the files whose content makes a release.

A cached page depends on the site scopes and on its own path's scope. Host apps retire
pages with `pages_changed(scope, ...)` when a write commits (`path_scope(url)` names one
page, and its other pages of `?page=N`), and tell when a page changes with time through
`page_changes_at(request, moment)`. Views opt in with `cache_for_readers`; the
`pagecache.middleware.PageCacheMiddleware` serves hits before sessions, users and URLs.
An invalidation the cache cannot take is kept in the database and applied before a page
is served from the cache again (`pagecache.outages`; a Redis cache names
`pagecache.outages.redis_connect_func` in its connection pool options).
"""

from pagecache.decorators import cache_for_readers, page_changes_at, page_shows
from pagecache.store import pages_changed, path_scope

__all__ = ["cache_for_readers", "page_changes_at", "page_shows", "pages_changed", "path_scope"]
