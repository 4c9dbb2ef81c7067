"""Root URLs: each app owns its pages; this file only wires them together."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from smpinfo.health import healthz

admin.site.site_header = "smpinfo administration"
admin.site.site_title = "smpinfo admin"
admin.site.index_title = "Articles and comments"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("comments.urls")),
    *(
        [path(settings.MEDIA_URL.lstrip("/"), include("images.urls"))]
        if settings.MEDIA_URL.startswith("/")
        else []
    ),
    path("", include("articles.urls")),
]
