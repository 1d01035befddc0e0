"""Articles: the editor, the article page with its comments, favorites and deletion."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conduit.articles import favorites
from conduit.articles import selectors as article_selectors
from conduit.articles import services as article_services
from conduit.comments import selectors as comment_selectors
from conduit.comments import services as comment_services
from conduit.platform.exceptions import Forbidden, InvalidInput
from conduit.platform.http import edge_cache
from conduit.platform.markdown import render_markdown
from conduit.web.forms import full_messages, split_tags
from conduit.web.views.base import (
    back_to,
    domain_errors_as_pages,
    signed_in,
    signed_in_required,
    viewer,
    viewer_id_of,
    with_flash_on_error,
)


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
    user = signed_in(request)
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
@domain_errors_as_pages
def editor_edit(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in(request)
    article = article_selectors.article_get(slug=slug, viewer_id=user.pk)
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


@edge_cache.public_when_anonymous
@require_safe
@domain_errors_as_pages
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    viewer_id = viewer_id_of(request)
    article = article_selectors.article_get(slug=slug, viewer_id=viewer_id)
    context = {
        "article": article,
        "body_html": render_markdown(article["body"]),
        "comments": comment_selectors.comment_list(article_id=article["id"], viewer_id=viewer_id),
        "is_author": viewer(request) is not None
        and request.user.get_username() == article["author"]["username"],
    }
    return render(request, "web/article.html", context)


@require_POST
@signed_in_required
@domain_errors_as_pages
def article_delete(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    article_services.article_delete(article=article, user=user)
    messages.success(request, "The article is deleted.")
    return redirect("web:home")


@require_POST
@signed_in_required
@domain_errors_as_pages
def favorite(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in(request)
    if request.POST.get("action") == "remove":
        with_flash_on_error(request, lambda: favorites.favorite_remove(user=user, slug=slug))
    else:
        with_flash_on_error(request, lambda: favorites.favorite_add(user=user, slug=slug))
    return back_to(request, reverse("web:article", args=[slug]))


@require_POST
@signed_in_required
@domain_errors_as_pages
def comment_create(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in(request)
    target = reverse("web:article", args=[slug])
    try:
        comment = comment_services.comment_create(
            author=user, slug=slug, body=request.POST.get("body", "")
        )
    except InvalidInput as exc:
        article_selectors.article_get_for_write(slug=slug)  # no such article: "not found"
        for message in full_messages(exc.errors):
            messages.error(request, message)
        return HttpResponseRedirect(target + "#comment-form")
    return HttpResponseRedirect(f"{target}#comment-{comment.pk}")


@require_POST
@signed_in_required
@domain_errors_as_pages
def comment_delete(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    user = signed_in(request)
    article = article_selectors.article_get_for_write(slug=slug)
    comment_services.comment_delete(user=user, article=article, comment_id=comment_id)
    return HttpResponseRedirect(reverse("web:article", args=[slug]) + "#comments")


# --- Profiles ---------------------------------------------------------------------------------
