"""Versions in a file that every process of the machine maps into memory (PAGE_CACHE_VERSIONS_FILE).

For a site on one machine whose caches are each process's own memory (the embedded default):
pages may stay in each process, but their versions must be the same for every process (the
server's workers, a management command, a cron job, `manage.py shell`), or a change made in
one is never seen by the others.

The file is a header and a fixed table of 64-bit counters. A version key is hashed to one
counter; its version is the file's epoch and that counter. Reading versions is a memory read
and one stat() of the file (a file deleted and made again is mapped again). A change
increments its counters under an exclusive lock of the file, and the shared mapping shows the
new value to every process at once. Two keys that share a counter
retire each other's pages now and then: a render too many, never a stale page. A read that
meets a counter being written gets a value no page was stored with: a miss, never a stale hit.
A file made again (deleted, or its header damaged) has a new epoch, so no page stored under
the old one matches.
"""

import fcntl
import hashlib
import mmap
import os
import secrets
import struct
import threading
from functools import cache, lru_cache
from pathlib import Path

MAGIC = b"smpinfo-pagecache-versions-1\n"
EPOCH_BYTES = 16
HEADER = len(MAGIC) + EPOCH_BYTES
COUNTERS = 1 << 16
COUNTER = struct.Struct("<Q")
SIZE = HEADER + COUNTERS * COUNTER.size


class VersionFile:
    """The version table at `path`, created if missing."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.map = None
        self.inode = None

    def mapping(self):
        """The mapped table, mapped again when the file at `path` is not the one mapped."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if self.map is None or inode != self.inode:
            with self.lock:
                if self.map is None or inode != self.inode:
                    self.map, self.inode = self.open()
        return self.map

    def open(self):
        """Map the file, making it first when it is missing or not a version table."""
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_RDWR)
            except FileNotFoundError:
                self.make(replace=False)
                continue
            try:
                status = os.fstat(descriptor)
                if status.st_size == SIZE and os.pread(descriptor, len(MAGIC), 0) == MAGIC:
                    mapped = mmap.mmap(descriptor, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                    return mapped, status.st_ino
            finally:
                os.close(descriptor)  # a mapping outlives its descriptor
            self.make(replace=True)
        raise OSError(f"Page cache: cannot make a version table at {self.path}")

    def make(self, replace):
        """Write a new table beside the path and put it in place in one step (never truncating
        a file another process may have mapped): linked only if none is there yet, or replacing
        one that is not a version table."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(new, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(descriptor, SIZE)
            os.pwrite(descriptor, MAGIC + secrets.token_bytes(EPOCH_BYTES), 0)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            if replace:
                os.replace(new, self.path)
            else:
                os.link(new, self.path)
        except FileExistsError:
            pass  # another process made it first: theirs is used
        finally:
            new.unlink(missing_ok=True)

    def read(self, keys):
        """{key: version} for the keys."""
        mapped = self.mapping()
        epoch = mapped[len(MAGIC) : HEADER].hex()
        return {key: f"{epoch}.{COUNTER.unpack_from(mapped, offset(key))[0]}" for key in keys}

    def increment(self, keys):
        """Give each key a new version, seen by every process once this returns.

        The lock is taken on a descriptor of its own: descriptors inherited across a fork share
        their lock, and a new one excludes every other process and thread.
        """
        mapped = self.mapping()
        descriptor = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            for place in sorted({offset(key) for key in keys}):
                COUNTER.pack_into(mapped, place, (COUNTER.unpack_from(mapped, place)[0] + 1) % (1 << 64))
        finally:
            os.close(descriptor)


@lru_cache(maxsize=4096)
def offset(key):
    slot = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") % COUNTERS
    return HEADER + slot * COUNTER.size


@cache
def version_file(path):
    return VersionFile(path)
