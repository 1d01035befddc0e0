"""The site for people: server-rendered pages over the same services and selectors as the API,
one module per area.

Every page works without JavaScript: follow, favorite and delete are plain form posts with CSRF
tokens. Signing in uses Django's session cookie (the API keeps tokens).
"""

from conduit.web.views.accounts import (
    login,
    logout,
    register,
    settings_avatar,
    settings_erase,
    settings_export,
    settings_sign_out_everywhere,
    user_settings,
)
from conduit.web.views.articles import (
    article_delete,
    article_detail,
    comment_create,
    comment_delete,
    editor_edit,
    editor_new,
    favorite,
)
from conduit.web.views.errors import csrf_failure, page_not_found, server_error
from conduit.web.views.events import article_events, feed_events
from conduit.web.views.home import home
from conduit.web.views.profiles import follow, profile, profile_favorites
from conduit.web.views.security import settings_security

__all__ = [
    "article_delete",
    "article_detail",
    "article_events",
    "comment_create",
    "comment_delete",
    "csrf_failure",
    "editor_edit",
    "editor_new",
    "favorite",
    "feed_events",
    "follow",
    "home",
    "login",
    "logout",
    "page_not_found",
    "profile",
    "profile_favorites",
    "register",
    "server_error",
    "settings_avatar",
    "settings_erase",
    "settings_export",
    "settings_security",
    "settings_sign_out_everywhere",
    "user_settings",
]
