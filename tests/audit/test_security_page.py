"""The Security settings page: a user's own audit entries, newest first, in pages; never
another user's (ADR 0032)."""

import pytest
from django.test import Client

from conduit.audit.models import AuditEvent
from conduit.audit.selectors import PAGE_SIZE
from conduit.audit.services import audit_record
from tests.factories import UserFactory
from tests.web.helpers import page

pytestmark = pytest.mark.django_db
Kind = AuditEvent.Kind


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(doc):
    return doc.select("tr.security-event")


def test_the_page_shows_the_users_entries_newest_first(user):
    client = Client()
    client.post("/login", {"email": user.email, "password": "wrong"}, REMOTE_ADDR="198.51.100.4")
    client.post(
        "/login",
        {"email": user.email, "password": "password123"},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Firefox/140 <script>",
    )
    doc = page(client.get("/settings/security"))
    shown = rows(doc)
    assert [row.attrs["data-kind"] for row in shown] == ["sign_in", "sign_in_failed"]
    assert "198.51.100.0/24" in shown[0].text
    assert "Firefox/140 <script>" in shown[0].one("td.security-agent").text  # escaped, shown
    assert "Failed sign-in" in shown[1].text
    assert doc.has("a.nav-link.active[href=/settings/security]")


def test_another_users_entries_are_never_shown(user):
    other = UserFactory()
    audit_record(kind=Kind.PASSWORD_CHANGED, actor_id=other.pk, target_user_id=other.pk)
    audit_record(kind=Kind.SIGN_IN_FAILED, identifier="nobody@example.com")  # no account
    doc = page(signed_in(user).get("/settings/security"))
    assert rows(doc) == []
    assert doc.has("p.security-empty")
    assert [
        r.attrs["data-kind"] for r in rows(page(signed_in(other).get("/settings/security")))
    ] == ["password_changed"]


def test_older_entries_are_a_page_away(user):
    for i in range(PAGE_SIZE + 3):
        audit_record(kind=Kind.SIGN_IN, actor_id=user.pk, target_user_id=user.pk, detail=str(i))
    client = signed_in(user)
    first = page(client.get("/settings/security"))
    assert len(rows(first)) == PAGE_SIZE
    older = first.one("a.security-older").attrs["href"]
    second = page(client.get(f"/settings/security{older}"))
    assert len(rows(second)) == 3
    assert not second.has("a.security-older")
    newest = AuditEvent.objects.order_by("-id").values_list("pk", flat=True)
    assert older == f"?before={newest[PAGE_SIZE - 1]}"


@pytest.mark.parametrize("before", ["abc", "0", "-1", "99999999999999999999"])
def test_a_bad_page_is_a_404(user, before):
    response = signed_in(user).get(f"/settings/security?before={before}")
    assert response.status_code == 404


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/settings/security")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_the_settings_page_links_to_it(user):
    doc = page(signed_in(user).get("/settings"))
    assert doc.has("a.nav-link.active[href=/settings]")
    assert doc.has("a.nav-link[href=/settings/security]")
