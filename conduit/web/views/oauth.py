"""The OAuth provider's pages (ADR 0031): the consent page an app sends its user to, the
"Applications" a user registered, and the "Authorized apps" holding a grant of theirs."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.csp import CSP
from django.views.decorators.http import require_http_methods, require_POST
from oauth2_provider.views import AuthorizationView

from conduit.oauth import selectors as oauth_selectors
from conduit.oauth import services as oauth_services
from conduit.platform.exceptions import InvalidInput, NotFound
from conduit.web.forms import full_messages
from conduit.web.views.base import signed_in, signed_in_required


def _source(uri: str) -> str:
    """A CSP source expression for a redirect URI: its origin, or its scheme for an app's own
    (``com.example.app:/callback``)."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


class ConsentView(AuthorizationView):
    """The toolkit's authorization endpoint on the site's own page: the app's name, what each
    scope lets it do, Allow or Deny (a form post with CSRF; Deny redirects back with
    ``error=access_denied``). Signed-out visitors sign in first and come back here."""

    template_name = "web/oauth_authorize.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        redirect_uri = getattr(self, "oauth2_data", {}).get("redirect_uri")
        if redirect_uri:
            # The strict CSP's form-action 'self' also covers where a form post redirects to:
            # Allow and Deny end in a redirect to the app, whose redirect URI (checked against
            # the app's registered ones by now) the page's policy must name.
            policy = {**settings.SECURE_CSP, "form-action": [CSP.SELF, _source(redirect_uri)]}
            response._csp_config = policy  # type: ignore[attr-defined]
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["nav"] = "settings"
        context["scope_items"] = list(
            zip(context.get("scopes", []), context.get("scopes_descriptions", []), strict=True)
        )
        return context


def _applications_page(
    request: HttpRequest,
    *,
    created: Any = None,
    secret: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    context = {
        "nav": "settings",
        "applications": oauth_selectors.applications_of(signed_in(request).pk),
        "created": created,
        "secret": secret,
        "form": form or {},
        "errors": full_messages(errors) if errors else None,
    }
    return render(request, "web/oauth_applications.html", context, status=422 if errors else 200)


@signed_in_required
@require_http_methods(["GET", "HEAD", "POST"])
def applications(request: HttpRequest) -> HttpResponse:
    """List and register the user's own applications. A new confidential app's secret is on
    this response only (the database keeps its hash), so it is rendered, not redirected."""
    if request.method != "POST":
        return _applications_page(request)
    form = {
        "name": request.POST.get("name", ""),
        "redirect_uri": request.POST.get("redirect_uri", ""),
        "public": "on" if request.POST.get("public") else "",
    }
    try:
        application, secret = oauth_services.application_create(
            name=form["name"],
            redirect_uris=form["redirect_uri"].split(),
            public=bool(form["public"]),
            user=signed_in(request),
        )
    except InvalidInput as exc:
        return _applications_page(request, form=form, errors=exc.errors)
    return _applications_page(request, created=application, secret=secret)


@signed_in_required
@require_POST
def application_delete(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        oauth_services.application_delete(user=signed_in(request), application_id=application_id)
    except NotFound:
        messages.error(request, "That application is not yours, or is gone already.")
    else:
        messages.success(request, "The application is deleted, with every token it held.")
    return redirect("web:settings-applications")


@signed_in_required
@require_http_methods(["GET", "HEAD"])
def authorized_apps(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    apps = oauth_selectors.authorized_apps(user.pk, user.token_version)
    return render(
        request, "web/oauth_authorized_apps.html", {"nav": "settings", "authorized": apps}
    )


@signed_in_required
@require_POST
def authorized_app_revoke(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        oauth_services.authorization_revoke(user=signed_in(request), application_id=application_id)
    except NotFound:
        messages.error(request, "That app holds no access of yours.")
    else:
        messages.success(request, "Access revoked: the app's tokens no longer work.")
    return redirect("web:settings-authorized-apps")
