from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "pagecache"
    verbose_name = "Readers' page cache"

    def ready(self):
        from pagecache import holes, store

        # Fail at startup, with a clear message, rather than on a reader's first page.
        holes.fillers()
        store.timed_change_functions()
