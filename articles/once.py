"""Work that many changes in a row ask for, done once when the block they are made in ends."""

from contextlib import contextmanager
from contextvars import ContextVar


class OncePerBlock:
    """Ids noted inside `block()` get `action(ids)` once, when the outermost block ends.

    Outside any block `defer()` notes nothing and says so: the caller does the work at once.
    An admin save of an article with six side effects renders it once, not six times.
    """

    def __init__(self, name, action):
        self.noted = ContextVar(name, default=None)
        self.action = action

    @contextmanager
    def block(self):
        if self.noted.get() is not None:
            yield  # an outer block does the work
            return
        noted = set()
        token = self.noted.set(noted)
        try:
            yield
        finally:
            self.noted.reset(token)
        self.action(noted)

    def defer(self, ids):
        """Note `ids` for the end of the block we are in (True), or nothing outside any (False)."""
        noted = self.noted.get()
        if noted is None:
            return False
        noted.update(ids)
        return True
