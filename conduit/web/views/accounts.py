"""Signing in, up and out, and the settings page (profile, password, avatar, data export,
erasure)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from conduit.media import limits as media_limits
from conduit.media import services as media_services
from conduit.platform.exceptions import DomainError, InvalidInput
from conduit.platform.http.body_limit import checks_own_body_size
from conduit.platform.http.client_ip import client_ip
from conduit.platform.ratelimit import RateLimited
from conduit.privacy import selectors as privacy_selectors
from conduit.privacy import services as privacy_services
from conduit.privacy.links import export_download_token
from conduit.users import services as user_services
from conduit.users.models import User
from conduit.web.forms import full_messages, safe_next
from conduit.web.views.base import (
    signed_in,
    signed_in_required,
)


@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"nav": "login", "next": safe_next(request, "")}
    if request.method == "POST":
        email = request.POST.get("email", "")
        context["email"] = email
        try:
            user = user_services.user_authenticate(
                email=email, password=request.POST.get("password", ""), source=client_ip(request)
            )
        except InvalidInput as exc:
            context["errors"] = full_messages(exc.errors)
        except RateLimited as refused:
            wait = f"Too many attempts. Try again in {refused.retry_after} seconds."
            context["errors"] = [wait]
            response = render(request, "web/login.html", context, status=429)
            response["Retry-After"] = str(refused.retry_after)
            return response
        except DomainError:
            context["errors"] = ["email or password is invalid"]
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(safe_next(request))
        return render(request, "web/login.html", context, status=422)
    return render(request, "web/login.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"nav": "register", "next": safe_next(request, "")}
    if request.method == "POST":
        username = request.POST.get("username", "")
        email = request.POST.get("email", "")
        context.update(username=username, email=email)
        try:
            user = user_services.user_register(
                username=username, email=email, password=request.POST.get("password", "")
            )
        except InvalidInput as exc:
            context["errors"] = full_messages(exc.errors)
            return render(request, "web/register.html", context, status=422)
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Conduit, {user.username}!")
        return HttpResponseRedirect(safe_next(request))
    return render(request, "web/register.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("web:home")


def _settings_page(
    request: HttpRequest,
    user: User,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    section: str = "profile",
    status: int = 422,
) -> HttpResponse:
    """The settings page; ``errors`` (a 422 unless ``status`` says otherwise) are shown next to
    the ``section`` they belong to: profile, avatar or erase."""
    if form is None:
        form = {
            "image": user.image or "",
            "username": user.username,
            "bio": user.bio or "",
            "email": user.email,
        }
    export = privacy_selectors.export_latest(user_id=user.pk)
    export_url = None
    if export is not None and export.status == export.Status.READY:
        token = export_download_token(export)
        export_url = reverse("api-export-download", args=[token])
    context = {
        "nav": "settings",
        "form": form,
        "export": export,
        "export_url": export_url,
        "errors": full_messages(errors) if errors and section == "profile" else None,
        "avatar_errors": full_messages(errors) if errors and section == "avatar" else None,
        "erase_errors": full_messages(errors) if errors and section == "erase" else None,
    }
    return render(request, "web/settings.html", context, status=status if errors else 200)


@signed_in_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if request.method == "POST":
        names = ("image", "username", "bio", "email")
        values = {name: request.POST.get(name, "") for name in names}
        password = request.POST.get("password", "")
        fields = set(values) | ({"password"} if password else set())
        try:
            user = user_services.user_update(
                user=user,
                password=password,
                fields=fields,
                current_password=request.POST.get("current_password", ""),
                **values,
            )
        except InvalidInput as exc:
            user.refresh_from_db()
            return _settings_page(request, user, form=values, errors=exc.errors)
        except RateLimited as refused:
            wait = f"too many changes: try again in {refused.retry_after} seconds"
            response = _settings_page(request, user, form=values, errors={"password": [wait]})
            response.status_code = 429
            response["Retry-After"] = str(refused.retry_after)
            return response
        if password:
            update_session_auth_hash(request, user)
        messages.success(request, "Your settings are saved.")
        return redirect("web:profile", username=user.username)
    return _settings_page(request, user)


@signed_in_required
@require_POST
def settings_sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user_services.user_sign_out_everywhere(user=signed_in(request))
    auth_logout(request)
    messages.success(request, "You are signed out everywhere. Sign in again to continue.")
    return redirect("web:login")


@checks_own_body_size  # a picture over the limit is a form error, even past REQUEST_MAX_BYTES
@signed_in_required
@require_POST
@csrf_exempt  # only until the size check: _settings_avatar_save is csrf_protect'ed
def settings_avatar(request: HttpRequest) -> HttpResponse:
    # The CSRF check reads request.POST, which parses (and spools) the whole multipart body; a
    # request announcing more than a picture is refused first, from its headers alone. Nothing
    # changes on that path, so answering it without the CSRF check is safe.
    if media_limits.upload_too_large(request.META.get("CONTENT_LENGTH")):
        errors = {"picture": [media_limits.too_large_message()]}
        return _settings_page(
            request, signed_in(request), errors=errors, section="avatar", status=413
        )
    return _settings_avatar_save(request)


@csrf_protect
def _settings_avatar_save(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    try:
        upload = request.FILES.get("avatar")
        if upload is None:
            raise InvalidInput.field("picture", "can't be blank")
        media_services.avatar_upload(user=user, data=upload, size=upload.size or 0)
    except InvalidInput as exc:
        errors = {"picture" if k == "image" else k: v for k, v in exc.errors.items()}
        return _settings_page(request, user, errors=errors, section="avatar")
    messages.success(request, "Your picture is saved.")
    return redirect("web:settings")


@signed_in_required
@require_POST
def settings_export(request: HttpRequest) -> HttpResponse:
    privacy_services.export_request(user=signed_in(request))
    messages.success(request, "Your export is on its way: its status is below.")
    return redirect("web:settings")


@signed_in_required
@require_POST
def settings_erase(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    try:
        privacy_services.account_erase(user=user, password=request.POST.get("current_password", ""))
    except InvalidInput as exc:
        return _settings_page(request, user, errors=exc.errors, section="erase")
    auth_logout(request)
    messages.success(request, "Your account and everything you made are erased.")
    return redirect("web:home")


# --- Editor -----------------------------------------------------------------------------------
