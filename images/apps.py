from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "images"
    verbose_name = "Image library"

    def ready(self):
        from django.db.models.signals import post_delete

        from images import library, models

        post_delete.connect(library.image_deleted, sender=models.Image, dispatch_uid="image-files-deleted")
