from typing import Any, ClassVar

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from conduit.api.authentication import OAuthScopes
from conduit.platform import tokens
from conduit.platform.cache.safe import cache
from conduit.platform.exceptions import InvalidInput
from conduit.platform.http import edge_cache, micro_cache
from conduit.users.models import User


class AuthenticatedWrites(BasePermission):
    # Anyone may read; writing needs a signed-in user.

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or bool(
            request.user and request.user.is_authenticated
        )


class ConduitView(APIView):
    # Base of the API views: reads for anyone, writes signed-in (views may tighten this).
    # (A comment, not a docstring: drf-spectacular would show a docstring on every operation.)

    permission_classes = [AuthenticatedWrites, OAuthScopes]

    def viewer(self, request: Request) -> User | None:
        user = request.user
        return user if isinstance(user, User) else None

    def viewer_id(self, request: Request) -> int | None:
        user = self.viewer(request)
        return user.pk if user is not None else None

    def signed_in(self, request: Request) -> User:
        user = self.viewer(request)
        assert user is not None, "permission classes let an anonymous user through"  # noqa: S101
        return user

    # A signed-in request reads its user (authentication), then the view's first cache keys:
    # with ``first_read`` naming those keys, both come in one round trip
    # (``cache.reading_ahead``). Authentication still decides access.

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        keys: list[str] = []
        viewer_id = tokens.user_id_of(request)  # None: anonymous, or a bad token (a 401)
        if viewer_id is not None:
            keys = self.first_read(request, viewer_id, **kwargs)
        if not keys:
            return super().dispatch(request, *args, **kwargs)
        with cache.reading_ahead(keys):
            return super().dispatch(request, *args, **kwargs)

    def first_read(self, request: HttpRequest, viewer_id: int, **kwargs: Any) -> list[str]:
        """The cache keys a signed-in request (of any method: ``request.method``) reads first,
        fetched with its user (none: nothing)."""
        return []


class EdgeCachedView(ConduitView):
    # Answers marked for the edge cache in front of the app (ADR 0028): an anonymous GET's 200
    # is public for a second, a signed-in answer private.

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:  # DRF's view function, wrapped
        return edge_cache.public_when_anonymous(cls.wrapped(super().as_view(**initkwargs)))

    @classmethod
    def wrapped(cls, view: Any) -> Any:
        """``view`` (DRF's view function) as the edge sees it: subclasses wrap it further."""
        return view


class AnonymousMicroCachedView(EdgeCachedView):
    # Anonymous GETs answered from the per-process micro-cache (<= 1 s stale, ADR 0016) and
    # marked for the edge cache (EdgeCachedView); a signed-in GET reads ahead its
    # ``first_read`` keys with its user (ConduitView).

    # The query parameters the GET reads, with how each is normalised in the micro-cache's key;
    # no other parameter is in it (a junk one would otherwise make an entry per request).
    micro_cache_parameters: ClassVar[micro_cache.Parameters] = {}

    @classmethod
    def wrapped(cls, view: Any) -> Any:
        return micro_cache.anonymous_micro_cached(view, cls.micro_cache_parameters)


class SignedInView(ConduitView):
    permission_classes = [IsAuthenticated, OAuthScopes]


def _int_param(
    request: Request | HttpRequest, name: str, *, default: int, minimum: int, maximum: int | None
) -> int:
    raw = request.GET.get(name)  # DRF's query_params, also before DRF wraps the request
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput.field(name, "must be an integer") from None
    if value < minimum:
        raise InvalidInput.field(name, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidInput.field(name, f"must be at most {maximum}")
    return value


def page_params(request: Request | HttpRequest) -> tuple[int, int]:
    """``(limit, offset)`` from the query string. ``limit`` above the maximum page size is capped
    rather than refused; anything that is not a number in range is a 422."""
    limit = _int_param(request, "limit", default=20, minimum=1, maximum=None)
    offset = _int_param(request, "offset", default=0, minimum=0, maximum=settings.API_MAX_OFFSET)
    return min(limit, settings.API_MAX_PAGE_SIZE), offset
