from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        # Fail at startup, with a clear message, rather than on a reader's first comment.
        from comments.moderation import moderation_mode
        from comments.ratelimit import parse_rate

        moderation_mode()
        parse_rate(self.settings.COMMENTS_RATE_LIMIT)

    @property
    def settings(self):
        from django.conf import settings

        return settings
