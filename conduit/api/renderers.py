from rest_framework.renderers import JSONRenderer


class ConduitJSONRenderer(JSONRenderer):
    """JSON with an explicit ``charset=utf-8``, as the RealWorld spec asks."""

    charset = "utf-8"
