"""The rules for article fields, shared by create and update."""

from conduit.articles.models import (
    BODY_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_PER_ARTICLE_MAX,
    TITLE_MAX_LENGTH,
    sorted_tags,
)
from conduit.platform.validation import Checker


def check_title(checker: Checker, value: str | None) -> str | None:
    return checker.text("title", value, max_length=TITLE_MAX_LENGTH)


def check_description(checker: Checker, value: str | None) -> str | None:
    return checker.text("description", value, max_length=DESCRIPTION_MAX_LENGTH)


def check_body(checker: Checker, value: str | None) -> str | None:
    # Markdown: leading whitespace can be meaningful (an indented code block), so keep it.
    body = checker.text("body", value, max_length=BODY_MAX_LENGTH, strip=False)
    return body.rstrip() if body is not None else None


def check_tags(checker: Checker, values: list[str] | None) -> list[str]:
    """Tags trimmed, blanks dropped, duplicates removed, sorted (``tag_order``)."""
    tags: list[str] = []
    for raw in values or []:
        tag = raw.strip()
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            checker.add("tagList", f"has a tag longer than {TAG_MAX_LENGTH} characters")
            return []
        if "\x00" in tag or "," in tag:
            checker.add("tagList", "has a tag with a comma or a NUL character")
            return []
        tags.append(tag)
    if len(tags) > TAGS_PER_ARTICLE_MAX:
        checker.add("tagList", f"has more than {TAGS_PER_ARTICLE_MAX} tags")
        return []
    return sorted_tags(tags)
