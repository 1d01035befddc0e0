from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs, inputs
from conduit.api.presenters import article_json
from conduit.api.rendered import articles_first_read, articles_response, feed_response
from conduit.api.views.base import (
    AnonymousMicroCachedView,
    SignedInView,
    page_params,
)
from conduit.articles import favorites, selectors, services
from conduit.articles.selectors import ListQuery
from conduit.platform.exceptions import InvalidInput
from conduit.platform.http import micro_cache

PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit", OpenApiTypes.INT, description="Items per page: default 20, at most 100."
    ),
    OpenApiParameter("offset", OpenApiTypes.INT, description="Items to skip: default 0."),
]


def _filter_param(request: Request | HttpRequest, name: str) -> str | None:
    return request.GET.get(name) or None  # DRF's query_params, also before DRF wraps the request


_PARSED = "conduit_list_query"


def _list_query(request: HttpRequest | Request, viewer_id: int | None) -> ListQuery:
    """The list a GET asks for, parsed once per request: the read-ahead (which names the page's
    first keys before authentication) and the answer use the same one. A bad limit or offset is
    raised where it is answered, with its 422."""
    # DRF's Request reads unknown attributes from the HttpRequest it wraps, where the
    # read-ahead (before DRF) left it.
    parsed = getattr(request, _PARSED, None)
    if parsed is None:
        try:
            limit, offset = page_params(request)
            parsed = ListQuery(
                viewer_id=viewer_id,
                limit=limit,
                offset=offset,
                tag=_filter_param(request, "tag"),
                author=_filter_param(request, "author"),
                favorited=_filter_param(request, "favorited"),
            )
        except InvalidInput as exc:
            parsed = exc
        setattr(request, _PARSED, parsed)
    if isinstance(parsed, InvalidInput):
        raise parsed
    return parsed


class ArticlesView(AnonymousMicroCachedView):
    micro_cache_parameters: ClassVar[micro_cache.Parameters] = {
        "tag": micro_cache.verbatim,
        "author": micro_cache.verbatim,
        "favorited": micro_cache.verbatim,
        "limit": micro_cache.integer,
        "offset": micro_cache.integer,
    }

    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        if request.method != "GET":
            return []
        try:
            query = _list_query(request, viewer_id)
        except InvalidInput:  # answered by the view, after authentication (a 401 comes first)
            return []
        return articles_first_read(query)

    @extend_schema(
        operation_id="GetArticles",
        summary="Get recent articles globally",
        tags=["Articles"],
        parameters=[
            OpenApiParameter("tag", str, description="Filter by tag"),
            OpenApiParameter("author", str, description="Filter by author (username)"),
            OpenApiParameter("favorited", str, description="Filter by favorites of a user"),
            *PAGE_PARAMETERS,
        ],
        responses={200: docs.MultipleArticlesResponse, **docs.errors(401, 422)},
    )
    def get(self, request: Request) -> HttpResponse:
        query = _list_query(request, self.viewer_id(request))
        return articles_response(query)

    @extend_schema(
        operation_id="CreateArticle",
        summary="Create an article",
        tags=["Articles"],
        request=inputs.NewArticleRequest,
        responses={201: docs.SingleArticleResponse, **docs.errors(401, 422)},
    )
    def post(self, request: Request) -> Response:
        data = inputs.parse(inputs.NewArticleRequest, request.data)
        user = self.signed_in(request)
        article = services.article_create(
            author=user,
            title=data.get("title"),
            description=data.get("description"),
            body=data.get("body"),
            tags=data.get("tagList"),
        )
        return Response(
            article_json(selectors.article_as_published(article)), status=status.HTTP_201_CREATED
        )


class FeedView(SignedInView):
    @extend_schema(
        operation_id="GetArticlesFeed",
        summary="Get recent articles from users you follow",
        tags=["Articles"],
        parameters=PAGE_PARAMETERS,
        responses={200: docs.MultipleArticlesResponse, **docs.errors(401, 422)},
    )
    def get(self, request: Request) -> HttpResponse:
        limit, offset = page_params(request)
        return feed_response(viewer_id=self.signed_in(request).pk, limit=limit, offset=offset)


class ArticleView(AnonymousMicroCachedView):
    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        if request.method != "GET":
            return []
        return selectors.article_first_read(slug=kwargs["slug"], viewer_id=viewer_id)

    @extend_schema(
        operation_id="GetArticle",
        summary="Get an article",
        tags=["Articles"],
        responses={200: docs.SingleArticleResponse, **docs.errors(401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(
            article_json(selectors.article_get(slug=slug, viewer_id=self.viewer_id(request)))
        )

    @extend_schema(
        operation_id="UpdateArticle",
        summary="Update an article",
        tags=["Articles"],
        request=inputs.UpdateArticleRequest,
        responses={200: docs.SingleArticleResponse, **docs.errors(401, 403, 404, 422)},
    )
    def put(self, request: Request, slug: str) -> Response:
        user = self.signed_in(request)
        article = selectors.article_get_for_write(slug=slug)
        data = inputs.parse(inputs.UpdateArticleRequest, request.data)
        fields = set(data)
        tags = data.pop("tagList", None)
        article = services.article_update(
            article=article, editor=user, tags=tags, fields=fields, **data
        )
        return Response(article_json(selectors.article_get(slug=article.slug, viewer_id=user.pk)))

    @extend_schema(
        operation_id="DeleteArticle",
        summary="Delete an article",
        tags=["Articles"],
        responses={204: None, **docs.errors(401, 403, 404)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        article = selectors.article_get_for_write(slug=slug)
        services.article_delete(article=article, user=self.signed_in(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteView(SignedInView):
    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        return favorites.favorite_first_read(slug=kwargs["slug"])

    @extend_schema(
        operation_id="CreateArticleFavorite",
        summary="Favorite an article",
        tags=["Favorites"],
        request=None,
        responses={200: docs.SingleArticleResponse, **docs.errors(401, 404, 422)},
    )
    def post(self, request: Request, slug: str) -> Response:
        user = self.signed_in(request)
        return Response(article_json(favorites.favorite_add(user=user, slug=slug)))

    @extend_schema(
        operation_id="DeleteArticleFavorite",
        summary="Unfavorite an article",
        tags=["Favorites"],
        responses={200: docs.SingleArticleResponse, **docs.errors(401, 404, 422)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        user = self.signed_in(request)
        return Response(article_json(favorites.favorite_remove(user=user, slug=slug)))


class TagsView(AnonymousMicroCachedView):
    @extend_schema(
        operation_id="GetTags",
        summary="Get tags",
        tags=["Tags"],
        responses={200: docs.TagsResponse},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response({"tags": selectors.tag_list()})
