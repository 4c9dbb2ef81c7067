from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_save


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from django.conf import settings

        from articles.models import Article
        from comments.models import (
            Comment,
            article_saved,
            comment_deleted,
            comment_loaded_raw,
            comment_saved_or_deleted,
            comments_published,
        )
        from comments.moderation import moderation_mode
        from comments.ratelimit import parse_rate
        from comments.subscriptions import comment_stored, comments_were_published

        # Fail at startup, with a clear message, rather than on a reader's first comment.
        moderation_mode()
        parse_rate(settings.COMMENTS_RATE_LIMIT)
        parse_rate(settings.COMMENTS_REPORT_RATE_LIMIT, "COMMENTS_REPORT_RATE_LIMIT")

        post_save.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-saved")
        post_delete.connect(comment_saved_or_deleted, sender=Comment, dispatch_uid="comment-pages-deleted")
        # Each article's count of approved comments (see comments.models): Comment.save()
        # and the queryset's bulk changes count themselves; these cover the rest.
        post_delete.connect(comment_deleted, sender=Comment, dispatch_uid="comment-count-deleted")
        post_save.connect(comment_loaded_raw, sender=Comment, dispatch_uid="comment-count-loaded")
        for sender in (Article, *apps.get_app_config("articles").get_proxies_of(Article)):
            post_save.connect(article_saved, sender=sender, dispatch_uid=f"comment-count-{sender.__name__}")
        # Readers' email about their comments (comments.subscriptions), in the change's transaction.
        post_save.connect(comment_stored, sender=Comment, dispatch_uid="comment-notify-stored")
        comments_published.connect(comments_were_published, sender=Comment, dispatch_uid="comment-notify")
