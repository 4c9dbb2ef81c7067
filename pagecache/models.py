"""What the page cache must not forget: invalidations the cache could not take when they happened."""

from django.db import models
from django.utils import timezone


class MissedInvalidation(models.Model):
    """A scope whose pages changed while the cache could not be told (it was down or hung).

    Kept in the database, which outlives a cache outage, and applied to the cache before
    any page is served from it again (pagecache.outages). A scope missed again before it
    is applied gets a new `missed_at`, so an application that read the older one does
    not delete it.
    """

    scope = models.CharField(max_length=255, unique=True)
    missed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "missed page-cache invalidation"

    def __str__(self):
        return self.scope
