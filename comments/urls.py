from django.urls import path

from comments import subscription_views, views

app_name = "comments"

urlpatterns = [
    path("articles/<slug:slug>/comments/", views.post_comment, name="post"),
    path("comments/<int:pk>/report/", views.report, name="report"),
    path("comments/<int:pk>/reply/", views.reply, name="reply"),
    path("comments/moderate/<str:token>/", views.moderate_from_email, name="moderate_from_email"),
    path("comments/confirm/<str:token>/", subscription_views.confirm, name="confirm_notifications"),
    path("comments/unsubscribe/<str:token>/", subscription_views.unsubscribe, name="unsubscribe"),
]
