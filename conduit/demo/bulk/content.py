"""What the bulk rows say: a small vocabulary, Markdown body templates (headings, lists, code,
tables, links: enough for the renderer to do real work), tag names, and the text of articles and
comments drawn from the seeded RNG."""

import random
from typing import NamedTuple

_WORD_TEXT = (
    "scaling django postgres queries cache latency index replica python async worker queue "
    "feed counter write read shard pool thread process memory profile trace metric deploy "
    "release rollback schema migration test browser page template render markdown token "
    "session cookie security review design pattern service selector model view router"
)
WORDS = _WORD_TEXT.split()

_BODIES = [
    "# {title}\n\n{sentence}\n\n## Why it matters\n\n- {w1} before {w2}\n- measure, then change\n"
    "- keep the *{w3}* path short\n\n```python\ndef {w1}_{w2}():\n    return '{w3}'\n```\n\n"
    "{sentence} More on **{w2}** in a later post.\n",
    "{sentence}\n\n> {w1} is not {w2}.\n\n1. Read the plan.\n2. Add the index.\n3. Measure "
    "again.\n\nSee [the docs](https://docs.djangoproject.com/) for {w3}.\n",
    "## {title}\n\n{sentence} {sentence}\n\n| {w1} | {w2} |\n|---|---|\n| 1 | 2 |\n\n"
    "That is all about {w3} for today.\n",
]


class ArticleText(NamedTuple):
    slug: str
    title: str
    description: str
    body: str


def tag_names(count: int) -> list[str]:
    """The vocabulary first, then numbered words: tag ``i`` is the ``i``-th name."""
    return [f"{WORDS[i % len(WORDS)]}-{i}" if i >= len(WORDS) else WORDS[i] for i in range(count)]


def article_text(rng: random.Random, number: int) -> ArticleText:
    """Article ``number``'s text: three words drawn, then a body template."""
    w1, w2, w3 = rng.sample(WORDS, 3)
    title = f"{w1.capitalize()} {w2} and {w3} #{number}"
    sentence = f"Notes on {w1}, {w2} and {w3}, from article {number}."
    body = rng.choice(_BODIES).format(title=title, sentence=sentence, w1=w1, w2=w2, w3=w3)
    return ArticleText(
        f"{w1}-{w2}-and-{w3}-{number}", title, f"What {w1} teaches about {w2}.", body
    )


def comment_body(rng: random.Random, number: int) -> str:
    return f"Comment {number}: {rng.choice(WORDS)} is the point."
