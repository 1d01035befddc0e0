"""Errors the domain raises; each channel (API, pages) turns them into its own responses.

The domain never imports a channel, so these carry only what went wrong: the API maps them to
field-keyed ``{"errors": {"title": ["can't be blank"]}}`` with a status, the pages to form
errors. Either shows an entry as "<field> <message>", so a message is worded to follow its field.
"""


class DomainError(Exception):
    """Base class for errors a user can cause and fix."""


class InvalidInput(DomainError):
    """Input that breaks a rule; ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str) -> "InvalidInput":
        return cls({name: [message]})


class AlreadyExists(InvalidInput):
    """Input that is well-formed but collides with existing data (a taken username or email)."""


class InvalidCredentials(DomainError):
    """Sign-in with an unknown email or a wrong password (deliberately not told apart)."""


class NotFound(DomainError):
    """``what`` (e.g. "article") does not exist."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(DomainError):
    """The user may not act on ``what`` (e.g. another author's "article")."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message
