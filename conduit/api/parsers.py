from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ConduitJSONParser(JSONParser):
    """DRF's JSON parser, plus: JSON nested too deeply for Python's parser is a parse error
    (a 422), not a RecursionError (a 500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
