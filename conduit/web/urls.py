from django.urls import path

from conduit.web import views
from conduit.web.views import oauth

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("register", views.register, name="register"),
    path("logout", views.logout, name="logout"),
    path("settings", views.user_settings, name="settings"),
    path("settings/security", views.settings_security, name="settings-security"),
    path("settings/avatar", views.settings_avatar, name="settings-avatar"),
    path("settings/export", views.settings_export, name="settings-export"),
    path("settings/erase", views.settings_erase, name="settings-erase"),
    path(
        "settings/sign-out-everywhere",
        views.settings_sign_out_everywhere,
        name="settings-sign-out-everywhere",
    ),
    path("settings/applications", oauth.applications, name="settings-applications"),
    path(
        "settings/applications/<int:application_id>/delete",
        oauth.application_delete,
        name="settings-application-delete",
    ),
    path("settings/authorized-apps", oauth.authorized_apps, name="settings-authorized-apps"),
    path(
        "settings/authorized-apps/<int:application_id>/revoke",
        oauth.authorized_app_revoke,
        name="settings-authorized-app-revoke",
    ),
    path("editor", views.editor_new, name="editor"),
    path("editor/<str:slug>", views.editor_edit, name="editor-edit"),
    path("article/<str:slug>", views.article_detail, name="article"),
    path("article/<str:slug>/delete", views.article_delete, name="article-delete"),
    path("article/<str:slug>/favorite", views.favorite, name="favorite"),
    path("article/<str:slug>/comments", views.comment_create, name="comment-create"),
    path(
        "article/<str:slug>/comments/<int:comment_id>/delete",
        views.comment_delete,
        name="comment-delete",
    ),
    path("events/article/<str:slug>", views.article_events, name="events-article"),
    path("events/feed", views.feed_events, name="events-feed"),
    path("profile/<str:username>", views.profile, name="profile"),
    path("profile/<str:username>/favorites", views.profile_favorites, name="profile-favorites"),
    path("profile/<str:username>/follow", views.follow, name="follow"),
]
