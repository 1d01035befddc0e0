"""A tiny HTML tree over the standard library's parser, to assert on rendered pages by structure
(``page.select("ul.error-messages li")``) rather than by substrings of the markup.

Selectors: ``tag``, ``.class``, ``#id``, ``[attr]`` and ``[attr=value]`` (quotes optional),
combined in one compound (``a.nav-link.active[href="/"]``), chained with spaces (descendant) and
grouped with commas (``input, textarea``).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_COMPOUND = re.compile(
    r"(?P<tag>[a-z0-9]+)|\.(?P<cls>[\w-]+)|#(?P<id>[\w-]+)"
    r"|\[(?P<attr>[\w-]+)(?:=(?P<q>[\"']?)(?P<value>.*?)(?P=q))?\]"
)


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    # Every attribute as written, duplicates included (``attrs`` keeps the first of each name).
    attr_list: list[tuple[str, str | None]] = field(default_factory=list)
    children: list["Element | str"] = field(default_factory=list, repr=False)
    parent: "Element | None" = field(default=None, repr=False)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed (``&nbsp;`` counts as a space)."""
        return " ".join("".join(self._texts()).replace("\xa0", " ").split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            elif child.tag == "br":
                yield " "
            else:
                yield from child._texts()

    def iter(self) -> Iterator["Element"]:
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def ancestors(self) -> Iterator["Element"]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def select(self, selector: str) -> list["Element"]:
        """Elements below this one matching ``selector`` (groups separated by commas allowed),
        in document order."""
        groups = [
            [_parse_compound(part) for part in group.split()] for group in selector.split(",")
        ]
        return [element for element in self.iter() if any(_chain(element, g) for g in groups)]

    def one(self, selector: str) -> "Element":
        """The only element matching ``selector``."""
        found = self.select(selector)
        assert len(found) == 1, f"{len(found)} elements match {selector!r}"
        return found[0]

    def texts(self, selector: str) -> list[str]:
        return [element.text for element in self.select(selector)]

    def has(self, selector: str) -> bool:
        return bool(self.select(selector))


def _chain(element: Element, compounds: list[list[tuple[str, str, str | None]]]) -> bool:
    *outer, last = compounds
    if not _matches(element, last):
        return False
    for ancestor in element.ancestors():
        if outer and _matches(ancestor, outer[-1]):
            outer.pop()
    return not outer


def _parse_compound(compound: str) -> list[tuple[str, str, str | None]]:
    tests: list[tuple[str, str, str | None]] = []
    position = 0
    for match in _COMPOUND.finditer(compound):
        assert match.start() == position, f"unsupported selector {compound!r}"
        position = match.end()
        if match["tag"]:
            tests.append(("tag", match["tag"], None))
        elif match["cls"]:
            tests.append(("class", match["cls"], None))
        elif match["id"]:
            tests.append(("attr", "id", match["id"]))
        else:
            tests.append(("attr", match["attr"], match["value"]))
    assert position == len(compound), f"unsupported selector {compound!r}"
    return tests


def _matches(element: Element, tests: list[tuple[str, str, str | None]]) -> bool:
    for kind, name, value in tests:
        if kind == "tag" and element.tag != name:
            return False
        if kind == "class" and name not in element.classes:
            return False
        if kind == "attr" and (
            name not in element.attrs or (value is not None and element.attrs[name] != value)
        ):
            return False
    return True


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")
        element = Element(tag, values, list(attrs), parent=self.current)
        self.current.children.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # an unmatched end tag is ignored
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str | bytes) -> Element:
    builder = _TreeBuilder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root
