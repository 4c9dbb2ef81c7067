from django.urls import path

from tests.pagecache_site import views

urlpatterns = [
    path("greetings/<str:name>/", views.greeting),
    path("form/", views.form),
    path("broken/", views.broken),
    path("slow/<int:status>/", views.slow),
]
