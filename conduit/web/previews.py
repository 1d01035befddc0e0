"""The article previews of the list pages (home, profile, tag lists) as cached HTML fragments
(issue 8, part 2; ADR 0016).

A preview's fragments are everything in it but the viewer's favorite button (its flag, CSRF token
and count), rendered from the article's card. The key is a digest of exactly the card fields
they show, so a changed card is a new key: invalidation is free, nothing is ever deleted. One
``get_many`` fetches a page's fragments; the missing ones are rendered and stored with one
``add_many``. The cache is SafeCache (Django's ``{% cache %}`` tag would raise with the cache
down): with it unavailable every preview is rendered, as without a cache.
"""

import hashlib
import json
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from conduit.articles.selectors import ArticleData
from conduit.platform.cache.safe import cache

FRAGMENT_SECONDS = 3600
# Part of every key: change it when the fragment templates change within a release.
TEMPLATE_VERSION = "1"
META_TEMPLATE = "web/_article_meta.html"
LINK_TEMPLATE = "web/_article_preview_link.html"


def _key(article: ArticleData) -> str:
    author = article["author"]
    shown = [
        article["slug"],
        article["title"],
        article["description"],
        article["tagList"],
        article["createdAt"].isoformat(),
        author["username"],
        author["image"],
    ]
    digest = hashlib.blake2b(json.dumps(shown).encode(), digest_size=16).hexdigest()
    return f"preview:{TEMPLATE_VERSION}:{digest}"


def with_fragments(articles: list[ArticleData]) -> list[dict[str, Any]]:
    """The articles, each with ``meta_html`` and ``link_html`` (from the cache or rendered)."""
    keys = [_key(a) for a in articles]
    found = cache.get_many(keys)
    rendered: dict[str, tuple[str, str]] = {}
    shown = []
    for key, article in zip(keys, articles, strict=True):
        parts = found.get(key) or rendered.get(key)
        if parts is None:
            context = {"article": article}
            parts = rendered[key] = (
                render_to_string(META_TEMPLATE, context),
                render_to_string(LINK_TEMPLATE, context),
            )
        shown.append({**article, "meta_html": _safe(parts[0]), "link_html": _safe(parts[1])})
    if rendered:
        cache.add_many(rendered, FRAGMENT_SECONDS)
    return shown


def _safe(html: str) -> SafeString:
    return mark_safe(html)  # noqa: S308 - rendered by our autoescaping templates
