"""Assertions shared by the page tests: a response read as a page, redirects, and the markup
every page must have (a title, a label for every field)."""

from typing import Any

from tests.web.html import Element, parse

HTML_UTF8 = "text/html; charset=utf-8"
PASSWORD = "password123"  # tests.factories.UserFactory's


def page(response: Any, status: int = 200) -> Element:
    """The response as an HTML tree, after checking that it is a page with this ``status``; also
    checks what every page has: a ``<title>`` and a ``<label for>`` for every field."""
    assert response.status_code == status, (response.status_code, response.content[:3000])
    assert response["Content-Type"] == HTML_UTF8, response["Content-Type"]
    doc = parse(response.content)
    assert_page_basics(doc)
    return doc


def assert_page_basics(doc: Element) -> None:
    titles = doc.select("head title")
    assert len(titles) == 1, "a page has exactly one <title>"
    assert titles[0].text.endswith("Conduit"), titles[0].text
    assert doc.has("nav.navbar a.navbar-brand[href=/]")
    labelled = {label.attrs.get("for") for label in doc.select("label")}
    for field in fields(doc):
        assert field.attrs.get("id"), f"a {field.tag} without an id: {field.attrs}"
        assert field.attrs["id"] in labelled, f"no <label for={field.attrs['id']!r}>"


def fields(doc: Element) -> list[Element]:
    """Inputs a person fills in (not hidden fields) and text areas."""
    return [
        element
        for element in doc.iter()
        if element.tag == "textarea"
        or (element.tag == "input" and element.attrs.get("type") not in {"hidden", "submit"})
    ]


def error_page(response: Any, status: int) -> Element:
    """The site's own error page (HTML in the site's look, not JSON, not Django's default)."""
    doc = page(response, status)
    assert doc.one("main .error-page h1").text == str(status)
    assert doc.has("footer")
    return doc


def redirect_target(response: Any) -> str:
    assert response.status_code == 302, (response.status_code, response.content[:3000])
    return response["Location"]


def error_messages(doc: Element) -> list[str]:
    return doc.texts("ul.error-messages li")


def flashes(doc: Element) -> list[str]:
    return doc.texts(".flash-messages .flash")


def button_texts(doc: Element) -> list[str]:
    return doc.texts("button")


def active_nav(doc: Element) -> list[str]:
    """The texts of the navbar links marked active."""
    return doc.texts("nav.navbar a.nav-link.active")


def preview_titles(doc: Element) -> list[str]:
    return doc.texts(".article-preview a.preview-link h1")
