"""The shapes the articles app's reads return, and the list request a channel hands them."""

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from conduit.profiles.selectors import Profile


class ArticleData(TypedDict, total=False):
    id: int
    slug: str
    title: str
    description: str
    body: str
    tagList: list[str]
    createdAt: datetime
    updatedAt: datetime
    favorited: bool
    favoritesCount: int
    author: Profile
    authorId: int  # not shown; the card cache needs it for the viewer's "following" flag


@dataclass(frozen=True)
class ArticlePage:
    articles: list[ArticleData]
    count: int


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list page asks for, from the channel that reads the request to the query: who is
    looking (``None``: anonymous), the filters (a tag, an author's or a favoriting user's name)
    and the page."""

    viewer_id: int | None
    limit: int
    offset: int
    tag: str | None = None
    author: str | None = None
    favorited: str | None = None

    @property
    def filters(self) -> list[str]:
        return [f for f in (self.tag, self.author, self.favorited) if f is not None]
