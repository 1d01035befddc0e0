from rest_framework.renderers import JSONRenderer


class ConduitJSONRenderer(JSONRenderer):
    """JSON with an explicit ``charset=utf-8``, as the RealWorld spec asks."""

    charset = "utf-8"


# What DRF sends with this renderer: a view that returns bytes it rendered itself uses it too.
JSON_CONTENT_TYPE = f"{ConduitJSONRenderer.media_type}; charset={ConduitJSONRenderer.charset}"
