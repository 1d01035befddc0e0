"""The OAuth pages (ADR 0031): "Applications" (register, list, delete one's own; a secret shown
once) and "Authorized apps" (list, revoke: the app's tokens stop working), linked from the
settings navigation."""

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application, RefreshToken

from tests.factories import UserFactory
from tests.oauth import helpers as h
from tests.web.helpers import flashes, page, redirect_target

pytestmark = pytest.mark.django_db


def test_settings_tabs_link_every_settings_page(client, alice):
    client.force_login(alice)
    tabs = {
        "/settings": "Profile",
        "/settings/security": "Security",
        "/settings/applications": "Applications",
        "/settings/authorized-apps": "Authorized apps",
    }
    for path, label in tabs.items():
        doc = page(client.get(path))
        links = {a.attrs["href"]: a.text for a in doc.select(".settings-tabs a")}
        assert links == tabs
        assert doc.texts(".settings-tabs a[aria-current=page]") == [label]


def test_pages_need_signing_in(client):
    for path in ("/settings/applications", "/settings/authorized-apps"):
        assert redirect_target(client.get(path)).startswith("/login?next=")


def test_register_a_confidential_app_shows_the_secret_once(client, alice):
    client.force_login(alice)
    form = {"name": "My reader", "redirect_uri": "https://reader.example/cb"}
    doc = page(client.post("/settings/applications", form))
    secret = doc.one(".app-client-secret").text
    client_id = doc.one(".app-client-id").text
    app = Application.objects.get(client_id=client_id)
    assert app.user == alice
    assert app.client_type == "confidential"
    assert app.client_secret != secret  # a hash
    again = page(client.get("/settings/applications"))
    assert secret not in again.text
    assert again.texts(".app-name") == ["My reader"]


def test_register_a_public_app_has_no_secret(client, alice):
    client.force_login(alice)
    form = {"name": "Spa", "redirect_uri": "https://spa.example/cb", "public": "on"}
    doc = page(client.post("/settings/applications", form))
    assert not doc.has(".app-client-secret")
    assert Application.objects.get().client_type == "public"


def test_register_with_bad_input_says_why(client, alice):
    client.force_login(alice)
    doc = page(client.post("/settings/applications", {"name": "", "redirect_uri": ""}), 422)
    assert doc.texts("ul.error-messages li") == [
        "name can't be blank",
        "redirect_uri can't be blank",
    ]
    assert Application.objects.count() == 0


def test_delete_only_ones_own_app(client, alice, bob):
    mine = h.register("Mine", owner=alice)
    theirs = h.register("Theirs", owner=bob)
    client.force_login(alice)
    response = client.post(f"/settings/applications/{theirs.application.pk}/delete", follow=True)
    assert response.redirect_chain == [("/settings/applications", 302)]
    assert flashes(page(response)) == ["That application is not yours, or is gone already."]
    assert Application.objects.filter(pk=theirs.application.pk).exists()
    response = client.post(f"/settings/applications/{mine.application.pk}/delete", follow=True)
    assert flashes(page(response)) == ["The application is deleted, with every token it held."]
    assert not Application.objects.filter(pk=mine.application.pk).exists()


def test_authorized_apps_lists_and_revokes(client, alice):
    reader, writer = h.register("Reader"), h.register("Writer")
    read_tokens = h.tokens_for(alice, reader, "read")
    write_tokens = h.tokens_for(alice, writer, "read write")
    h.tokens_for(UserFactory(), reader, "read")  # someone else's grant: not listed, kept
    client.force_login(alice)
    doc = page(client.get("/settings/authorized-apps"))
    assert doc.texts(".authorized-name") == ["Writer", "Reader"]
    assert "read, write" in doc.select(".authorized-item")[0].text

    response = client.post(f"/settings/authorized-apps/{reader.application.pk}/revoke", follow=True)
    assert flashes(page(response)) == ["Access revoked: the app's tokens no longer work."]
    assert page(response).texts(".authorized-name") == ["Writer"]
    assert Client().get("/api/tags", **h.bearer(read_tokens["access_token"])).status_code == 401
    assert h.refresh(reader, read_tokens["refresh_token"]).status_code == 400
    assert not AccessToken.objects.filter(user=alice, application=reader.application).exists()
    assert not RefreshToken.objects.filter(user=alice, application=reader.application).exists()
    assert AccessToken.objects.filter(application=reader.application).count() == 1
    assert Client().get("/api/tags", **h.bearer(write_tokens["access_token"])).status_code == 200


def test_revoking_an_app_without_a_grant_says_so(client, alice):
    app = h.register("Reader")
    client.force_login(alice)
    response = client.post(f"/settings/authorized-apps/{app.application.pk}/revoke", follow=True)
    assert flashes(page(response)) == ["That app holds no access of yours."]


def test_revoke_needs_csrf(alice):
    app = h.register("Reader")
    h.tokens_for(alice, app, "read")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post(f"/settings/authorized-apps/{app.application.pk}/revoke").status_code == 403
    assert AccessToken.objects.filter(user=alice).exists()


def test_after_signing_out_everywhere_no_app_is_listed(client, alice):
    from conduit.users import services as user_services

    h.tokens_for(alice, h.register("Reader"), "read")
    client.force_login(alice)
    assert page(client.get("/settings/authorized-apps")).texts(".authorized-name") == ["Reader"]
    user_services.user_sign_out_everywhere(user=alice)
    alice.refresh_from_db()
    client.force_login(alice)
    assert page(client.get("/settings/authorized-apps")).has(".authorized-none")


def test_an_app_whose_access_token_expired_stays_listed_while_it_can_refresh(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    h.tokens_for(alice, h.register("Reader"), "read")
    AccessToken.objects.update(expires=timezone.now() - timedelta(minutes=1))
    client.force_login(alice)
    assert page(client.get("/settings/authorized-apps")).texts(".authorized-name") == ["Reader"]
    RefreshToken.objects.update(revoked=timezone.now())
    assert page(client.get("/settings/authorized-apps")).has(".authorized-none")
