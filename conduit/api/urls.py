from collections.abc import Collection

from django.conf import settings
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from conduit.api.views import articles, comments, media, privacy, profiles, users

_CSP: dict[str, Collection[str]] = settings.SECURE_CSP  # type: ignore[assignment]

# The busiest reads first: Django tries the patterns in order (the article list came ninth).
urlpatterns = [
    path("articles", articles.ArticlesView.as_view(), name="api-articles"),
    # "feed" before "<slug>": an article slug never equals "feed" (see article services).
    path("articles/feed", articles.FeedView.as_view(), name="api-feed"),
    path("articles/<str:slug>", articles.ArticleView.as_view(), name="api-article"),
    path("tags", articles.TagsView.as_view(), name="api-tags"),
    path("users", users.RegistrationView.as_view(), name="api-register"),
    path("users/login", users.LoginView.as_view(), name="api-login"),
    path("user", users.CurrentUserView.as_view(), name="api-current-user"),
    path("user/image", media.AvatarView.as_view(), name="api-user-image"),
    path(
        "user/sign-out-everywhere",
        users.SignOutEverywhereView.as_view(),
        name="api-sign-out-everywhere",
    ),
    path("user/export", privacy.ExportView.as_view(), name="api-export"),
    path(
        "user/export/download/<str:token>",
        privacy.ExportDownloadView.as_view(),
        name="api-export-download",
    ),
    path("profiles/<str:username>", profiles.ProfileView.as_view(), name="api-profile"),
    path("profiles/<str:username>/follow", profiles.FollowView.as_view(), name="api-follow"),
    path("articles/<str:slug>/favorite", articles.FavoriteView.as_view(), name="api-favorite"),
    path("articles/<str:slug>/comments", comments.CommentsView.as_view(), name="api-comments"),
    path(
        "articles/<str:slug>/comments/<str:id>",
        comments.CommentView.as_view(),
        name="api-comment",
    ),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI: its page loads its start-up script from a URL (the split view), so the strict
    # CSP holds but for the one inline <style> of drf-spectacular's template.
    path(
        "docs",
        csp_override({**_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
