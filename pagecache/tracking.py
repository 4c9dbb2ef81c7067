"""Pages and versions from Redis, kept in each process's memory and dropped the moment Redis
says they changed (server-assisted client-side caching: CLIENT TRACKING, broadcasting mode).

A cache hit on a shared Redis would cost a round trip: the page and its versions, every
request. Here each process keeps what it read of the page cache's keys (`readers-page:*`)
and Redis pushes the name of every such key that changes, whoever changes it, to a
connection of this process that does nothing but listen. Before a request trusts its copies,
it reads what that connection has received (a poll of the socket, no round trip) and drops
the keys named. Redis sends the notice of a change in the same step as its answer to the
writer, so it is on its way here before the writer's reader can ask again.

Why not redis-py's own client-side cache (`protocol=3, cache_config=...`): it refuses a
Redis older than 7.4 (Debian 12 has 7.0), and a hit through it still takes a pooled
connection and copies the value.

What can go wrong, and what happens then:
- The listening connection drops (Redis restarts, a network fault, Redis closing a
  subscriber that fell behind) or the connection that holds the tracking does: everything
  kept is dropped and requests read Redis as before until both are connected again.
  A push that is lost is lost with its connection, so it is never missed silently.
- A connection that dies without a sign (a network partition) is found by a PING every
  PAGE_CACHE_TRACKING_CHECK_SECONDS: at most that long, in that one case, a page may be one
  change behind.
- Redis is flushed: it pushes a flush, and everything kept is dropped.
- A read from Redis that met a push while it was in flight is not kept (it may be older).
- The page cache doubts its data (pagecache.outages: a new connection, a failed call):
  everything kept is dropped.
- Redis refuses CLIENT TRACKING (a managed Redis may): this process reads Redis every time,
  as without tracking, and says so once in the log.
"""

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.exceptions import ResponseError

from pagecache import outages
from pagecache.backends import Sizes

logger = logging.getLogger(__name__)

CHANNEL = "__redis__:invalidate"
RECONNECT_SECONDS = 1.0


def check_seconds():
    return getattr(settings, "PAGE_CACHE_TRACKING_CHECK_SECONDS", 1.0)


class Mirror:
    """This process's copies of the keys under `prefix` of a django-redis cache.

    `lookup(keys)` gives them all, or None when one is not here (then read Redis and give
    what was read to `keep`, with the token `lookup` gave). Page entries are kept while they
    are current: until their "expires" moment (the TTL they were stored with) and at most
    `max_bytes` of them, least recently used dropped first.
    """

    def __init__(self, cache, prefix, max_bytes):
        self.cache = cache
        self.prefix = cache.make_key(prefix)
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.values = OrderedDict()  # made key: (value, expires), least recently used first
        self.sizes = Sizes()  # their bytes, as the local-memory page cache counts its own
        self.made_keys = {}
        self.changes = 0  # pushes received (and resets): a read that met one is not kept
        self.pid = None
        self.listener = self.tracker = None
        self.checked = 0.0
        self.retry_at = 0.0
        self.refused = False
        self.doubts = None

    # Reading -----------------------------------------------------------------------

    def lookup(self, keys):
        """({key: value} of all `keys`, None) when every one is here; else (None, token)."""
        made = [self.made_key(key) for key in keys]
        with self.lock:
            if not self.sync():
                return None, None
            found = {}
            now = time.time()
            for key, made_key in zip(keys, made, strict=True):
                kept = self.values.get(made_key)
                if kept is None or (kept[1] is not None and kept[1] <= now):
                    return None, self.changes
                found[key] = kept[0]
            for made_key in made:
                self.values.move_to_end(made_key)
            return found, None

    def keep(self, found, token):
        """Keep what was read from Redis after `lookup` gave `token`, unless a push came meanwhile."""
        if token is None:
            return
        with self.lock:
            if not self.sync() or self.changes != token:
                return
            for key, value in found.items():
                expires = value.get("expires") if isinstance(value, dict) else None
                if isinstance(value, dict) and expires is None:
                    continue  # a page stored without its expiry: its TTL is not known here
                self.put(self.made_key(key), value, expires)

    def put(self, made_key, value, expires):
        self.values.pop(made_key, None)
        self.values[made_key] = (value, expires)
        self.sizes.put(made_key, entry_bytes(value))
        while self.sizes.total > self.max_bytes and len(self.values) > 1:
            self.drop(next(iter(self.values)))

    def drop(self, made_key):
        self.values.pop(made_key, None)
        self.sizes.drop(made_key)

    def forget(self):
        self.values.clear()
        self.sizes.clear()
        self.changes += 1

    def made_key(self, key):
        """The key as Redis has it (the cache's prefix and version added), as the pushes name it."""
        made = self.made_keys.get(key)
        if made is None:
            if len(self.made_keys) >= 4096:
                self.made_keys.clear()
            made = self.made_keys[key] = str(self.cache.make_key(key))
        return made

    # Keeping in step with Redis ----------------------------------------------------------

    def sync(self):
        """Apply the pushes received; False when the copies cannot be trusted now (called
        with the lock held)."""
        if self.refused or outages.is_skipped():
            return False
        if outages.health.doubts != self.doubts:
            # The page cache doubts what Redis holds (pagecache.outages): nothing read before counts.
            self.forget()
            self.doubts = outages.health.doubts
        try:
            if self.pid != os.getpid() or self.listener is None:
                if time.monotonic() < self.retry_at:
                    return False
                self.connect()
            if self.tracker.can_read(0):
                raise ConnectionError("the tracking connection was closed")
            self.drain()
            if time.monotonic() - self.checked >= check_seconds():
                self.tracker.send_command("PING")
                self.tracker.read_response()
                self.drain()  # the pushes sent before the answer
                self.checked = time.monotonic()
            return True
        except ResponseError:
            self.refused = True
            self.disconnect()
            logger.warning("Page cache: Redis refuses CLIENT TRACKING; every hit reads Redis", exc_info=True)
            return False
        except Exception:
            self.disconnect()
            self.retry_at = time.monotonic() + RECONNECT_SECONDS
            logger.warning("Page cache: no invalidations from Redis; reading Redis until back", exc_info=True)
            return False

    def drain(self):
        """Apply every push the listening connection has received so far."""
        while self.listener.can_read(0):
            self.received(self.listener.read_response())

    def received(self, message):
        """A push from Redis: [b"message", channel, [keys]], keys None after a flush."""
        if not isinstance(message, list) or len(message) != 3 or message[0] != b"message":
            return
        keys = message[2]
        self.changes += 1
        if keys is None:
            self.forget()
            return
        for key in keys:
            self.drop(key.decode() if isinstance(key, bytes) else key)

    def connect(self):
        """The listening connection (subscribed to the invalidations) and the one whose
        tracking is redirected to it, both new; everything kept before is dropped."""
        self.disconnect()
        pool = self.cache.client.get_client(write=False).connection_pool
        # RESP2, where the invalidations come as messages of a channel (redis-py may choose
        # RESP3, whose pushes it hands to handlers of its own).
        options = {key: value for key, value in pool.connection_kwargs.items() if key != "redis_connect_func"}
        options["protocol"] = 2
        self.pid = os.getpid()
        self.listener = pool.connection_class(**options)
        self.tracker = pool.connection_class(**options)
        self.listener.send_command("CLIENT", "ID")
        listener_id = self.listener.read_response()
        self.listener.send_command("SUBSCRIBE", CHANNEL)
        self.listener.read_response()
        self.tracker.send_command(
            "CLIENT", "TRACKING", "ON", "REDIRECT", listener_id, "BCAST", "PREFIX", str(self.prefix)
        )
        self.tracker.read_response()
        self.checked = time.monotonic()

    def disconnect(self):
        for connection in (self.listener, self.tracker):
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.disconnect()
        self.listener = self.tracker = None
        self.forget()


def entry_bytes(value):
    if isinstance(value, dict):
        parts = [part for part in value.values() if isinstance(part, str | bytes)]
        parts += [part for part in value.get("gzip_parts", ()) if isinstance(part, bytes)]
        return sum(map(len, parts)) + 512
    return 64 + len(str(value))


_mirrors = {}
_mirrors_lock = threading.Lock()


def mirror_of(cache, alias, prefix):
    """The Mirror of the keys under `prefix` of the page cache `alias` (`cache` is one of its
    per-thread handles), or None when it is not a django-redis cache or PAGE_CACHE_TRACKING
    is off."""
    mirror = _mirrors.get(alias)
    if mirror is not None:
        return mirror
    is_redis = hasattr(getattr(cache, "client", None), "get_client")
    if not is_redis or not getattr(settings, "PAGE_CACHE_TRACKING", True):
        return None
    with _mirrors_lock:
        if alias not in _mirrors:
            max_bytes = getattr(settings, "PAGE_CACHE_TRACKING_MAX_MB", 64) * 1024 * 1024
            _mirrors[alias] = Mirror(cache, prefix, max_bytes)
    return _mirrors[alias]


def forget_mirrors():
    with _mirrors_lock:
        for mirror in _mirrors.values():
            with mirror.lock:
                mirror.disconnect()
        _mirrors.clear()


@receiver(setting_changed)
def forget_on_change(setting, **kwargs):
    if setting in ("CACHES", "PAGE_CACHE_ALIAS", "PAGE_CACHE_TRACKING", "PAGE_CACHE_TRACKING_MAX_MB"):
        forget_mirrors()
