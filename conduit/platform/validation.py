"""Small, shared input rules used by the write services of every domain app."""

from collections.abc import Callable

from conduit.platform.exceptions import InvalidInput

BLANK = "can't be blank"


def too_long(limit: int) -> str:
    return f"is too long (maximum is {limit} characters)"


class Checker:
    """Collects every problem with an input before raising, so a form can show them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def text(
        self,
        field: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = True,
        strip: bool = True,
        rule: Callable[[str], str | None] | None = None,
    ) -> str | None:
        """Check a text value and return it cleaned (stripped), or None when it is absent."""
        if value is None:
            if required:
                self.add(field, BLANK)
            return None
        cleaned = value.strip() if strip else value
        if "\x00" in cleaned:
            self.add(field, "must not contain NUL characters")
            return None
        if required and not cleaned.strip():
            self.add(field, BLANK)
            return None
        if len(cleaned) > max_length:
            self.add(field, too_long(max_length))
            return None
        if rule is not None and cleaned:
            problem = rule(cleaned)
            if problem:
                self.add(field, problem)
                return None
        return cleaned

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def storable(value: str) -> bool:
    """Whether a lookup value can match anything: PostgreSQL text cannot hold NUL, and a query
    with one fails instead of matching nothing, so callers answer "not found" without asking."""
    return "\x00" not in value


def checked(value: str | None) -> str:
    """A required value after ``Checker.raise_if_any`` passed: never None, typed as ``str``."""
    if value is None:
        raise RuntimeError("a required value was not checked")
    return value
