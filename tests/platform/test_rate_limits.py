"""Rate limits and the sign-in lockout (ADR 0024): 429 with ``Retry-After`` in each channel's
shape, per address, per user and per account, behind trusted proxies only, and all off with
``RATE_LIMITS_ENABLED=false``. The counts on Redis and Memcached: tests/cache/."""

from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from conduit.api.authentication import token_for
from conduit.platform import ratelimit
from conduit.platform.http.client_ip import client_ip
from conduit.users import lockout
from tests.factories import UserFactory, make_article
from tests.support import assert_error

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


@pytest.fixture
def limits(settings: Any):
    """Set some limits low: ``limits(sign_in_per_ip="3/h")``."""

    def set_limits(**rates: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}

    return set_limits


def login(api: APIClient, email: str, password: str, address: str = "127.0.0.1") -> Any:
    body = {"user": {"email": email, "password": password}}
    return api.post("/api/users/login", body, format="json", REMOTE_ADDR=address)


def refused_count(limit: str) -> float:
    return REGISTRY.get_sample_value("conduit_rate_limited_total", {"limit": limit}) or 0.0


def assert_429(response: Any) -> int:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    return retry_after


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("100/5m", 100, 300), ("20/h", 20, 3600), ("3/s", 3, 1), (" 7 / 10s ", 7, 10)],
)
def test_rates_parse(text, count, seconds):
    assert ratelimit.parse_rate(text) == ratelimit.Rate(count, seconds)


@pytest.mark.parametrize("text", ["", "100", "0/m", "5/0m", "5/d", "five/m", "-1/m"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError, match="not a rate"):
        ratelimit.parse_rate(text)


# --- per address ----------------------------------------------------------------------------------


def test_sign_in_is_limited_per_address(api, limits):
    limits(sign_in_per_ip="3/h")
    user = UserFactory(password=PASSWORD)
    before = refused_count("sign_in_per_ip")
    for _ in range(3):
        assert login(api, user.email, PASSWORD).status_code == 200
    response = login(api, user.email, PASSWORD)
    assert_429(response)
    assert_error(response, 429, "requests")
    assert response.json()["errors"]["requests"][0].startswith("are too many; retry after ")
    assert refused_count("sign_in_per_ip") == before + 1
    assert login(api, user.email, PASSWORD, address="10.0.0.9").status_code == 200


def test_registration_is_limited_per_address(api, limits):
    limits(register_per_ip="2/h")
    for i in range(2):
        body = {
            "user": {"username": f"new{i}", "email": f"new{i}@example.com", "password": PASSWORD}
        }
        assert api.post("/api/users", body, format="json").status_code == 201
    body = {"user": {"username": "new9", "email": "new9@example.com", "password": PASSWORD}}
    assert_429(api.post("/api/users", body, format="json"))


def test_anonymous_reads_are_limited_per_address_and_signed_in_ones_are_not(api, limits):
    limits(reads_per_ip="3/h")
    for _ in range(3):
        assert api.get("/api/tags").status_code == 200
    assert_429(api.get("/api/tags"))
    assert_429(Client().get("/"))  # the pages too, as a page
    assert api.get("/api/tags", REMOTE_ADDR="10.0.0.9").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(UserFactory())}")
    assert api.get("/api/tags").status_code == 200


def test_a_refused_page_is_a_page_with_retry_after(limits):
    limits(reads_per_ip="1/h")
    client = Client()
    client.get("/")
    response = client.get("/")
    assert_429(response)
    assert response["Content-Type"].startswith("text/html")
    assert b"Too many requests" in response.content


# --- per user -------------------------------------------------------------------------------------


def test_writes_are_limited_per_user(api, limits):
    limits(writes_per_user="2/h")
    author = UserFactory()
    articles = [make_article(author, title=f"Post {i}") for i in range(3)]
    fan, other = UserFactory(), UserFactory()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(fan)}")
    for article in articles[:2]:
        assert api.post(f"/api/articles/{article.slug}/favorite").status_code == 200
    assert_429(api.post(f"/api/articles/{articles[2].slug}/favorite"))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(other)}")
    assert api.post(f"/api/articles/{articles[2].slug}/favorite").status_code == 200


def test_password_changes_are_limited_per_user(api, limits):
    limits(password_change_per_user="1/h")
    user = UserFactory(password=PASSWORD)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    first = api.put("/api/user", {"user": {"password": "first-new-password"}}, format="json")
    assert first.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {first.json()['user']['token']}")
    assert_429(api.put("/api/user", {"user": {"password": "second-new-password"}}, format="json"))
    assert api.put("/api/user", {"user": {"bio": "still fine"}}, format="json").status_code == 200


# --- the sign-in lockout --------------------------------------------------------------------------


def test_failed_sign_ins_lock_the_account_for_that_address_only(api, settings):
    settings.SIGN_IN_LOCKOUT_AFTER = 3
    user = UserFactory(password=PASSWORD)
    for _ in range(3):
        assert login(api, user.email, "wrong-password").status_code == 401
    assert_429(login(api, user.email, PASSWORD))  # locked: even the right password waits
    assert login(api, user.email, PASSWORD, address="10.0.0.9").status_code == 200  # the owner


def test_the_wait_grows_with_each_failure_up_to_the_cap(settings):
    settings.SIGN_IN_LOCKOUT_AFTER, settings.SIGN_IN_LOCKOUT_SECONDS = 2, 30
    settings.SIGN_IN_LOCKOUT_MAX_SECONDS = 100
    waits = []
    for _ in range(5):
        lockout.failed("victim@example.com", "203.0.113.7")
        try:
            lockout.check("victim@example.com", "203.0.113.7")
            waits.append(0)
        except ratelimit.RateLimited as refused:
            waits.append(refused.retry_after)
    assert waits == [0, 30, 60, 100, 100]
    lockout.succeeded("victim@example.com", "203.0.113.7")
    lockout.check("victim@example.com", "203.0.113.7")  # a success clears it


def test_one_accounts_failures_from_many_addresses_are_capped(api, limits, settings):
    limits(sign_in_per_account="3/15m")
    settings.SIGN_IN_LOCKOUT_AFTER = 100
    user = UserFactory(password=PASSWORD)
    for i in range(3):
        assert login(api, user.email, "wrong", address=f"10.0.0.{i}").status_code in (401, 429)
    assert_429(login(api, user.email, PASSWORD, address="10.0.1.1"))


def test_the_sign_in_page_says_how_long_to_wait(settings):
    settings.SIGN_IN_LOCKOUT_AFTER = 1
    user = UserFactory(password=PASSWORD)
    client = Client()
    client.post("/login", {"email": user.email, "password": "wrong"})
    response = client.post("/login", {"email": user.email, "password": PASSWORD})
    assert_429(response)
    assert b"Too many attempts. Try again in" in response.content


# --- trusted proxies and the switch ---------------------------------------------------------------


def request_from(peer: str, forwarded: str | None = None) -> Any:
    from django.test import RequestFactory

    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **extra)


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "client"),
    [
        ([], "203.0.113.7", "1.2.3.4", "203.0.113.7"),  # no proxy: the header is anyone's
        (["127.0.0.1"], "203.0.113.7", "1.2.3.4", "203.0.113.7"),  # not from the proxy
        (["127.0.0.1"], "127.0.0.1", "1.2.3.4", "1.2.3.4"),
        (["127.0.0.1"], "127.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client wrote 6.6.6.6
        (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "1.2.3.4, 10.1.2.3", "1.2.3.4"),
        (["127.0.0.1"], "127.0.0.1", None, "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1", "junk", "127.0.0.1"),
    ],
)
def test_the_client_address_is_believed_only_from_trusted_proxies(
    settings, proxies, peer, forwarded, client
):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(request_from(peer, forwarded)) == client


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(api, limits):
    limits(sign_in_per_ip="2/h")
    user = UserFactory(password=PASSWORD)
    for i in range(2):
        api.post(
            "/api/users/login",
            {"user": {"email": user.email, "password": PASSWORD}},
            format="json",
            HTTP_X_FORWARDED_FOR=f"9.9.9.{i}",
        )
    forged = {"HTTP_X_FORWARDED_FOR": "9.9.9.99"}
    body = {"user": {"email": user.email, "password": PASSWORD}}
    assert_429(api.post("/api/users/login", body, format="json", **forged))


def test_rate_limits_enabled_false_turns_every_limit_off(api, limits, settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.SIGN_IN_LOCKOUT_AFTER = 1
    limits(sign_in_per_ip="1/h", reads_per_ip="1/h")
    user = UserFactory(password=PASSWORD)
    for _ in range(3):
        assert login(api, user.email, "wrong").status_code == 401
    assert login(api, user.email, PASSWORD).status_code == 200
    for _ in range(3):
        assert api.get("/api/tags").status_code == 200


def test_a_bad_rate_fails_the_system_check(limits):
    limits(writes_per_user="lots")
    [error] = ratelimit.check_rates()
    assert error.id == "conduit.E010"
    assert "RATE_LIMIT_WRITES_PER_USER" in error.msg
