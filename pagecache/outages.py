"""When the cache fails: skip it for a while, and forget no page it should have retired.

- A circuit breaker. After a cache call fails (refused, down, timed out), this process
  serves every page uncached for PAGE_CACHE_RETRY_SECONDS (5 by default) without trying
  the cache, so a hung cache costs one timeout every few seconds, not one per request.
- Missed invalidations. A change whose new versions cannot reach the cache is recorded
  in the database (MissedInvalidation), which outlives the outage. Before a process
  serves a page from the cache, it applies what the cache missed whenever it has reason
  to think the cache may hold pages it should not: the process has just started, one of
  its cache calls failed, or it opened a new connection to the cache (a Redis that
  restarted with its old data: `redis_connect_func`). The process that recorded a miss
  also retries it in the background until the cache takes it, for the processes that
  saw nothing of the outage.
"""

import logging
import threading
import time
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connections
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

logger = logging.getLogger(__name__)


def retry_seconds():
    return getattr(settings, "PAGE_CACHE_RETRY_SECONDS", 5)


class CacheHealth:
    """What this process knows of the cache: when to try it again, and whether it may hold
    pages that missed an invalidation.

    `doubts` counts the reasons to look for missed invalidations (starting at one: a new
    process has not looked yet); `settled` is the count they were last applied at.
    `generation` changes when another cache is configured: a retry for the old one stops.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.doubts = 1
        self.settled = 0
        self.generation = 0
        self.retrying = None  # the generation a retry runs for
        self.wake_retry = threading.Event()

    def doubt(self):
        with self.lock:
            self.doubts += 1

    def settle(self, doubts):
        with self.lock:
            self.settled = max(self.settled, doubts)


health = CacheHealth()


def is_skipped():
    """True while the breaker is open: the cache failed less than PAGE_CACHE_RETRY_SECONDS ago."""
    return time.monotonic() < health.skip_until


def cache_failed(message, *args):
    """Log the failure of a cache call (from an `except` block) and open the breaker."""
    logger.exception(message, *args)
    health.skip_until = time.monotonic() + retry_seconds()
    health.doubt()


def redis_connect_func(connection):
    """For a Redis cache's connection pool (`redis_connect_func`): greet the server as
    redis-py does, then note that the cache may have restarted with pages it should not
    keep (a Redis with persistence comes back with its old data)."""
    connection.on_connect_check_health(check_health=True)
    health.doubt()


def record_missed(scopes, set_versions):
    """Keep in the database the scopes whose new versions the cache did not take, and
    retry them in the background with `set_versions(scopes)`."""
    from pagecache.models import MissedInvalidation

    try:
        MissedInvalidation.objects.bulk_create(
            [MissedInvalidation(scope=scope, missed_at=timezone.now()) for scope in scopes],
            update_conflicts=True,
            unique_fields=["scope"],
            update_fields=["missed_at"],
        )
    except DatabaseError:
        logger.exception("Page cache: could not record the invalidation of %s; it is lost", ", ".join(scopes))
        return
    logger.warning("Page cache: recorded the invalidation of %s until the cache takes it", ", ".join(scopes))
    health.doubt()
    retry_in_background(set_versions)


def settled_doubts():
    """The count of doubts when this process has none left now, else None: taken before a read
    from the cache, it tells afterwards whether the read may be trusted (`is_trusted`)."""
    doubts = health.doubts
    return doubts if doubts == health.settled else None


def is_trusted(settled):
    """Whether what was read since `settled_doubts()` gave `settled` may be served: this process
    had no doubt of the cache before the read, and got none during it (a new connection).

    Otherwise the read may predate the missed invalidations, even when another process has
    already applied them (and this one finds none left to apply): it is not served.
    """
    return settled is not None and health.doubts == settled


def apply_missed(set_versions, force=False):
    """Apply the invalidations the cache missed, when this process has reason to doubt it
    (or `force`); what was read from the cache before may be stale either way (is_trusted).

    Raises when the database or the cache fails: the caller then serves uncached.
    """
    from pagecache.models import MissedInvalidation

    doubts = health.doubts
    if doubts == health.settled and not force:
        return
    missed = list(MissedInvalidation.objects.values_list("pk", "scope", "missed_at"))
    if missed:
        scopes = sorted(scope for _, scope, _ in missed)
        set_versions(scopes)
        # A scope missed again meanwhile has a new moment and stays for the next time.
        applied = reduce(or_, (Q(pk=pk, missed_at=moment) for pk, _, moment in missed))
        MissedInvalidation.objects.filter(applied).delete()
        logger.warning("Page cache: applied the missed invalidation of %s", ", ".join(scopes))
    health.settle(doubts)


def retry_in_background(set_versions):
    """One thread per process retries the recorded invalidations until the cache takes them."""
    with health.lock:
        if health.retrying == health.generation:
            return
        health.retrying = generation = health.generation
    threading.Thread(target=retry_until_applied, args=(set_versions, generation), daemon=True).start()


def retry_until_applied(set_versions, generation):
    while True:
        health.wake_retry.wait(retry_seconds())
        health.wake_retry.clear()
        if health.generation != generation:
            return
        try:
            apply_missed(set_versions, force=True)
            break
        except Exception:
            logger.warning("Page cache: the cache still does not take the missed invalidations")
        finally:
            connections.close_all()  # this thread's own connections
    with health.lock:
        if health.retrying == generation:
            health.retrying = None


def reset():
    """Forget what this process knew of the cache (another cache was configured)."""
    with health.lock:
        health.skip_until = 0.0
        health.settled = health.doubts
        health.generation += 1
    health.wake_retry.set()  # a retry waiting on the old cache stops now


@receiver(setting_changed)
def forget_cache_health(setting, **kwargs):
    if setting in ("CACHES", "PAGE_CACHE_ALIAS"):
        reset()
