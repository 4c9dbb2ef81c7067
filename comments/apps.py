from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def comment_saved_or_deleted(sender, instance, **kwargs):
    """Readers' pages of the article change only when a public comment appears,
    changes or goes away."""
    from articles.page_cache import comment_thread_changed

    if instance.is_public or instance.was_public:
        comment_thread_changed(instance.article.slug)


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from django.conf import settings

        from comments.models import Comment
        from comments.moderation import moderation_mode
        from comments.ratelimit import parse_rate

        # Fail at startup, with a clear message, rather than on a reader's first comment.
        moderation_mode()
        parse_rate(settings.COMMENTS_RATE_LIMIT)

        post_save.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-saved")
        post_delete.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-deleted")
