from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from articles.models import Article, SideEffect, article_saved_or_deleted, side_effect_deleted

        post_delete.connect(side_effect_deleted, sender=SideEffect, dispatch_uid="side-effect-deleted")

        for signal in (post_save, post_delete):
            signal.connect(article_saved_or_deleted, sender=Article, dispatch_uid=f"article-pages-{signal}")
            signal.connect(article_saved_or_deleted, sender=SideEffect, dispatch_uid=f"side-effect-{signal}")
        for proxy in self.get_proxies_of(Article):
            for signal in (post_save, post_delete):
                signal.connect(article_saved_or_deleted, sender=proxy, dispatch_uid=f"{proxy}-{signal}")

    def get_proxies_of(self, model):
        from django.apps import apps

        return [m for m in apps.get_models() if m._meta.proxy and m._meta.concrete_model is model]
