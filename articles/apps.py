from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from articles import images, models, redirects, related, reviews
        from images.models import Image
        from images.usage import register

        # A side effect's save refreshes its article itself (SideEffect.save); its delete:
        post_delete.connect(
            models.article_part_changed, sender=models.SideEffect, dispatch_uid="side-effect-deleted"
        )
        for signal in (post_save, post_delete):
            for sender in (models.Article, models.SideEffect, *self.get_proxies_of(models.Article)):
                signal.connect(
                    models.article_saved_or_deleted, sender=sender, dispatch_uid=f"{sender}-{signal}"
                )
            # What an article page shows of other rows: stored again with the article.
            for sender in (models.Reference, models.Review, models.ArticleAuthor):
                signal.connect(models.article_part_changed, sender=sender, dispatch_uid=f"{sender}-{signal}")
            signal.connect(
                models.reader_pages_changed, sender=models.SitePage, dispatch_uid=f"site-page-{signal}"
            )
        pre_save.connect(
            models.keep_what_readers_saw, sender=models.Article, dispatch_uid="keep-what-readers-saw"
        )
        post_save.connect(models.author_saved, sender=models.Author, dispatch_uid="author-saved")
        post_delete.connect(models.reader_pages_changed, sender=models.Author, dispatch_uid="author-deleted")
        m2m_changed.connect(
            models.byline_changed, sender=models.Article.authors.through, dispatch_uid="byline"
        )
        post_save.connect(reviews.review_recorded, sender=models.Review, dispatch_uid="review-recorded")
        # Old addresses of renamed articles (articles.redirects), and related articles
        # ranked again when articles or their topics change (articles.related).
        redirects.connect_signals()
        related.connect_signals()
        # Images of the library: an edit refreshes the articles that show it, and the
        # library lists them as where it is used.
        post_save.connect(images.image_changed, sender=Image, dispatch_uid="image-changed")
        register(images.articles_showing)

    def get_proxies_of(self, model):
        from django.apps import apps

        return [m for m in apps.get_models() if m._meta.proxy and m._meta.concrete_model is model]
