"""The site for people: server-rendered pages over the same services and selectors as the API.

Every page works without JavaScript: follow, favorite and delete are plain form posts with CSRF
tokens. Signing in uses Django's session cookie (the API keeps tokens).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conduit.articles import cards as article_cards
from conduit.articles import selectors as article_selectors
from conduit.articles import services as article_services
from conduit.comments import selectors as comment_selectors
from conduit.comments import services as comment_services
from conduit.media import services as media_services
from conduit.platform.exceptions import DomainError, Forbidden, InvalidInput, NotFound
from conduit.platform.markdown import render_markdown
from conduit.privacy import selectors as privacy_selectors
from conduit.privacy import services as privacy_services
from conduit.privacy.links import export_download_token
from conduit.profiles import selectors as profile_selectors
from conduit.profiles import services as profile_services
from conduit.users import services as user_services
from conduit.users.models import User
from conduit.users.selectors import user_get_by_username
from conduit.web import previews
from conduit.web.forms import full_messages, safe_next, split_tags
from conduit.web.pagination import PAGE_SIZE, Pager, page_number, pager

View = Callable[..., HttpResponse]
POPULAR_TAGS = 20  # tags in the home page's sidebar


def _viewer(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def _signed_in(request: HttpRequest) -> User:
    """The user of a view behind ``signed_in_required``."""
    user = _viewer(request)
    if user is None:
        raise RuntimeError("a view that needs a signed-in user ran without one")
    return user


def _viewer_id(request: HttpRequest) -> int | None:
    user = _viewer(request)
    return user.pk if user is not None else None


def signed_in_required(view: View) -> View:
    """Send anonymous visitors to /login, and back here after they sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _viewer(request) is None:
            target = request.get_full_path() if request.method == "GET" else safe_next(request)
            return redirect_to_login(target, login_url=reverse("web:login"))
        return view(request, *args, **kwargs)

    return wrapper


def _domain_errors_as_pages(view: View) -> View:
    """A domain NotFound (unknown slug or username) is the site's 404 page, and Forbidden (another
    author's article) its 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Forbidden as exc:
            return render(
                request, "web/error.html", {"status": 403, "message": exc.message}, status=403
            )

    return wrapper


def _page_or_404(request: HttpRequest) -> int:
    """The ``?page=`` of a list; a page that is not a number or too deep is the 404 page."""
    try:
        return page_number(request, max_offset=settings.API_MAX_OFFSET)
    except InvalidInput:
        raise Http404("no such page") from None


def _pager_or_404(request: HttpRequest, *, page: int, count: int) -> Pager:
    """The page links of a list; a page past the last one is the 404 page."""
    links = pager(request, page=page, count=count)
    if page > links.pages:
        raise Http404("no such page")
    return links


# --- Home -------------------------------------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    viewer_id = _viewer_id(request)
    tag = request.GET.get("tag") or None
    feed = request.GET.get("feed")
    if feed == "your" and viewer_id is None:
        return redirect_to_login(request.get_full_path(), login_url=reverse("web:login"))
    tab = "tag" if tag else ("your" if feed == "your" else "global")
    page = _page_or_404(request)
    offset = (page - 1) * PAGE_SIZE
    if tab == "your" and viewer_id is not None:  # anonymous visitors were redirected above
        result = article_selectors.article_feed(viewer_id=viewer_id, limit=PAGE_SIZE, offset=offset)
    else:
        result = article_cards.article_list(
            viewer_id=viewer_id, tag=tag, limit=PAGE_SIZE, offset=offset
        )
    links = _pager_or_404(request, page=page, count=result.count)
    context = {
        "nav": "home",
        "tab": tab,
        "tag": tag,
        "articles": previews.with_fragments(result.articles),
        "pager": links,
        "tags": article_cards.tag_list(limit=POPULAR_TAGS),
    }
    return render(request, "web/home.html", context)


# --- Sign in, sign up, sign out, settings -----------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"nav": "login", "next": safe_next(request, "")}
    if request.method == "POST":
        email = request.POST.get("email", "")
        context["email"] = email
        try:
            user = user_services.user_authenticate(
                email=email, password=request.POST.get("password", "")
            )
        except InvalidInput as exc:
            context["errors"] = full_messages(exc.errors)
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
) -> HttpResponse:
    """The settings page; ``errors`` (a 422) are shown next to the ``section`` they belong to:
    profile, avatar or erase."""
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
    return render(request, "web/settings.html", context, status=422 if errors else 200)


@signed_in_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    if request.method == "POST":
        names = ("image", "username", "bio", "email")
        values = {name: request.POST.get(name, "") for name in names}
        password = request.POST.get("password", "")
        fields = set(values) | ({"password"} if password else set())
        try:
            user = user_services.user_update(user=user, password=password, fields=fields, **values)
        except InvalidInput as exc:
            user.refresh_from_db()
            return _settings_page(request, user, form=values, errors=exc.errors)
        if password:
            update_session_auth_hash(request, user)
        messages.success(request, "Your settings are saved.")
        return redirect("web:profile", username=user.username)
    return _settings_page(request, user)


@signed_in_required
@require_POST
def settings_avatar(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
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
    privacy_services.export_request(user=_signed_in(request))
    messages.success(request, "Your export is on its way: its status is below.")
    return redirect("web:settings")


@signed_in_required
@require_POST
def settings_erase(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    try:
        privacy_services.account_erase(user=user, password=request.POST.get("current_password", ""))
    except InvalidInput as exc:
        return _settings_page(request, user, errors=exc.errors, section="erase")
    auth_logout(request)
    messages.success(request, "Your account and everything you made are erased.")
    return redirect("web:home")


# --- Editor -----------------------------------------------------------------------------------


def _editor_values(request: HttpRequest) -> dict[str, Any]:
    return {
        "title": request.POST.get("title", ""),
        "description": request.POST.get("description", ""),
        "body": request.POST.get("body", ""),
        "tags": split_tags(*request.POST.getlist("tag"), request.POST.get("tags", "")),
    }


@signed_in_required
@require_http_methods(["GET", "HEAD", "POST"])
def editor_new(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    form: dict[str, Any] = {"title": "", "description": "", "body": "", "tags": []}
    if request.method == "POST":
        form = _editor_values(request)
        try:
            article = article_services.article_create(author=user, **form)
        except InvalidInput as exc:
            context = {"nav": "editor", "form": form, "errors": full_messages(exc.errors)}
            return render(request, "web/editor.html", context, status=422)
        return redirect("web:article", slug=article.slug)
    return render(request, "web/editor.html", {"nav": "editor", "form": form})


@signed_in_required
@require_http_methods(["GET", "HEAD", "POST"])
@_domain_errors_as_pages
def editor_edit(request: HttpRequest, slug: str) -> HttpResponse:
    user = _signed_in(request)
    article = article_cards.article_get(slug=slug, viewer_id=user.pk)
    if article["author"]["username"] != user.username:
        raise Forbidden("article", "Only the author can edit this article.")
    if request.method == "POST":
        form = _editor_values(request)
        try:
            updated = article_services.article_update(
                article=article_selectors.article_get_for_write(slug=slug),
                editor=user,
                title=form["title"],
                description=form["description"],
                body=form["body"],
                tags=form["tags"],
                fields={"title", "description", "body", "tagList"},
            )
        except InvalidInput as exc:
            context = {"form": form, "slug": slug, "errors": full_messages(exc.errors)}
            return render(request, "web/editor.html", context, status=422)
        return redirect("web:article", slug=updated.slug)
    form = {
        "title": article["title"],
        "description": article["description"],
        "body": article["body"],
        "tags": article["tagList"],
    }
    return render(request, "web/editor.html", {"form": form, "slug": slug})


# --- Article, comments, favorites -------------------------------------------------------------


@require_safe
@_domain_errors_as_pages
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    viewer_id = _viewer_id(request)
    article = article_cards.article_get(slug=slug, viewer_id=viewer_id)
    context = {
        "article": article,
        "body_html": render_markdown(article["body"]),
        "comments": comment_selectors.comment_list(article_id=article["id"], viewer_id=viewer_id),
        "is_author": _viewer(request) is not None
        and request.user.get_username() == article["author"]["username"],
    }
    return render(request, "web/article.html", context)


def _back_to(request: HttpRequest, fallback: str) -> HttpResponse:
    return HttpResponseRedirect(safe_next(request, fallback))


def _with_flash_on_error(request: HttpRequest, action: Callable[[], object]) -> None:
    """Run ``action``; a rule it breaks (e.g. favoriting twice) is shown as a message."""
    try:
        action()
    except InvalidInput as exc:
        for message in full_messages(exc.errors):
            messages.error(request, message)


@require_POST
@signed_in_required
@_domain_errors_as_pages
def article_delete(request: HttpRequest, slug: str) -> HttpResponse:
    user = _signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    article_services.article_delete(article=article, user=user)
    messages.success(request, "The article is deleted.")
    return redirect("web:home")


@require_POST
@signed_in_required
@_domain_errors_as_pages
def favorite(request: HttpRequest, slug: str) -> HttpResponse:
    user = _signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    if request.POST.get("action") == "remove":
        _with_flash_on_error(
            request, lambda: article_services.favorite_remove(user=user, article=article)
        )
    else:
        _with_flash_on_error(
            request, lambda: article_services.favorite_add(user=user, article=article)
        )
    return _back_to(request, reverse("web:article", args=[slug]))


@require_POST
@signed_in_required
@_domain_errors_as_pages
def comment_create(request: HttpRequest, slug: str) -> HttpResponse:
    user = _signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    target = reverse("web:article", args=[slug])
    try:
        comment = comment_services.comment_create(
            author=user, article=article, body=request.POST.get("body", "")
        )
    except InvalidInput as exc:
        for message in full_messages(exc.errors):
            messages.error(request, message)
        return HttpResponseRedirect(target + "#comment-form")
    return HttpResponseRedirect(f"{target}#comment-{comment.pk}")


@require_POST
@signed_in_required
@_domain_errors_as_pages
def comment_delete(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    user = _signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    comment_services.comment_delete(user=user, article=article, comment_id=comment_id)
    return HttpResponseRedirect(reverse("web:article", args=[slug]) + "#comments")


# --- Profiles ---------------------------------------------------------------------------------


def _profile_page(request: HttpRequest, username: str, *, favorites: bool) -> HttpResponse:
    viewer_id = _viewer_id(request)
    profile = profile_selectors.profile_get(username=username, viewer_id=viewer_id)
    page = _page_or_404(request)
    filters = {"favorited": profile["username"]} if favorites else {"author": profile["username"]}
    result = article_cards.article_list(
        viewer_id=viewer_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters
    )
    links = _pager_or_404(request, page=page, count=result.count)
    context = {
        "nav": "profile" if request.user.get_username() == profile["username"] else "",
        "profile": profile,
        "tab": "favorites" if favorites else "articles",
        "articles": previews.with_fragments(result.articles),
        "pager": links,
        "is_self": request.user.get_username() == profile["username"],
    }
    return render(request, "web/profile.html", context)


@require_safe
@_domain_errors_as_pages
def profile(request: HttpRequest, username: str) -> HttpResponse:
    return _profile_page(request, username, favorites=False)


@require_safe
@_domain_errors_as_pages
def profile_favorites(request: HttpRequest, username: str) -> HttpResponse:
    return _profile_page(request, username, favorites=True)


@require_POST
@signed_in_required
@_domain_errors_as_pages
def follow(request: HttpRequest, username: str) -> HttpResponse:
    user = _signed_in(request)
    followee = user_get_by_username(username)
    if request.POST.get("action") == "remove":
        _with_flash_on_error(
            request, lambda: profile_services.follow_remove(follower=user, followee=followee)
        )
    else:
        _with_flash_on_error(
            request, lambda: profile_services.follow_add(follower=user, followee=followee)
        )
    return _back_to(request, reverse("web:profile", args=[followee.username]))


# --- Errors -----------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"status": 404, "message": "We couldn't find that page."}
    return render(request, "web/error.html", context, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context (no user, no session): this may be a database outage.
    return HttpResponse(
        render_to_string("web/500.html"), status=500, content_type="text/html; charset=utf-8"
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    context = {
        "status": 403,
        "message": "This form expired or came from another site. Go back, reload the page and "
        "try again.",
    }
    return render(request, "web/error.html", context, status=403)
