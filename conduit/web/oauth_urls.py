"""The OAuth provider's endpoints under /oauth/ (ADR 0031), in the namespace the toolkit
reverses (``oauth2_provider``) for its metadata document: the consent page (the site's), the
token and revocation endpoints (the toolkit's), and introspection (Conduit's: confidential
clients only, their own tokens only)."""

from django.urls import path
from oauth2_provider import views as toolkit

from conduit.oauth.views import IntrospectView
from conduit.web.views.oauth import ConsentView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", ConsentView.as_view(), name="authorize"),
    path("token/", toolkit.TokenView.as_view(), name="token"),
    path("revoke/", toolkit.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", IntrospectView.as_view(), name="introspect"),
]
