from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from django.conf import settings

        from comments.models import Comment, comment_saved_or_deleted
        from comments.moderation import moderation_mode
        from comments.ratelimit import parse_rate

        # Fail at startup, with a clear message, rather than on a reader's first comment.
        moderation_mode()
        parse_rate(settings.COMMENTS_RATE_LIMIT)

        post_save.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-saved")
        post_delete.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-deleted")
