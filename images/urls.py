from django.urls import path

from images.views import serve_media

app_name = "images"

urlpatterns = [
    path("<path:name>", serve_media, name="media"),
]
