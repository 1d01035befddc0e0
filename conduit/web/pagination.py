"""Page links for the article lists: numbers around the current page, gaps as None."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest

from conduit.platform.exceptions import InvalidInput

PAGE_SIZE = 10


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("...")
    url: str = ""
    current: bool = False


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    links: list[PageLink]

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def page_number(request: HttpRequest, *, max_offset: int) -> int:
    raw = request.GET.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        raise InvalidInput.field("page", "must be a number") from None
    if page < 1 or (page - 1) * PAGE_SIZE > max_offset:
        raise InvalidInput.field("page", "is out of range")
    return page


def pager(
    request: HttpRequest, *, page: int, count: int, kept: tuple[str, ...] = (), window: int = 2
) -> Pager:
    """The links around ``page``. Each carries the ``kept`` parameters of this request (those
    the page reads, blank ones dropped) and no others: a page's HTML depends on nothing in its
    query string that the edge cache's key leaves out (ADR 0028)."""
    pages = max(1, -(-count // PAGE_SIZE))
    carried = {name: value for name in kept if (value := request.GET.get(name))}
    shown = {1, pages, *range(max(1, page - window), min(pages, page + window) + 1)}
    links: list[PageLink] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            links.append(PageLink(None))
        params = {**carried, "page": str(number)}
        links.append(PageLink(number, "?" + urlencode(params), number == page))
        previous = number
    return Pager(page=page, pages=pages, links=links)
