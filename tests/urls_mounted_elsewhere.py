"""The site's articles under /library/, to show addresses follow the URL configuration."""

from django.urls import include, path

urlpatterns = [path("library/", include("articles.urls")), path("", include("comments.urls"))]
