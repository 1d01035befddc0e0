from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from conduit.api import docs, inputs
from conduit.api.presenters import comment_dict
from conduit.api.views.base import EdgeCachedView, SignedInView
from conduit.articles.selectors import article_get_for_write
from conduit.comments import selectors, services
from conduit.platform.exceptions import InvalidInput, NotFound


class CommentsView(EdgeCachedView):
    @extend_schema(
        operation_id="GetArticleComments",
        summary="Get comments for an article",
        tags=["Comments"],
        responses={200: docs.MultipleCommentsResponse, **docs.errors(401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        article = article_get_for_write(slug=slug)
        comments = selectors.comment_list(article_id=article.pk, viewer_id=self.viewer_id(request))
        return Response({"comments": [comment_dict(c) for c in comments]})

    @extend_schema(
        operation_id="CreateArticleComment",
        summary="Create a comment for an article",
        tags=["Comments"],
        request=inputs.NewCommentRequest,
        responses={201: docs.SingleCommentResponse, **docs.errors(401, 404, 422)},
    )
    def post(self, request: Request, slug: str) -> Response:
        user = self.signed_in(request)
        try:
            data = inputs.parse(inputs.NewCommentRequest, request.data)
            comment = services.comment_create(author=user, slug=slug, body=data.get("body"))
        except (InvalidInput, ValidationError):
            article_get_for_write(slug=slug)  # no such article: "not found" before "invalid"
            raise
        created = selectors.comment_as_created(comment)
        return Response({"comment": comment_dict(created)}, status=status.HTTP_201_CREATED)


class CommentView(SignedInView):
    @extend_schema(
        operation_id="DeleteArticleComment",
        summary="Delete a comment for an article",
        tags=["Comments"],
        responses={204: None, **docs.errors(401, 403, 404, 422)},
    )
    def delete(self, request: Request, slug: str, id: str) -> Response:
        article = article_get_for_write(slug=slug)
        try:
            pk = int(id)
        except ValueError:
            raise InvalidInput.field("id", "must be an integer") from None
        if not 0 < pk < 2**63:
            raise NotFound("comment")
        services.comment_delete(user=self.signed_in(request), article=article, comment_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
