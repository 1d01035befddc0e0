"""The generic cached bulk read (conduit/platform/cache/bulk.py) on every backend: hits and
misses, tombstones, versions, what is kept of a loaded value, renderings buried with their
source, generations, and the listeners told of every invalidation."""

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from conduit.platform.cache import bulk
from conduit.platform.cache.safe import cache

pytestmark = pytest.mark.django_db


class Source:
    """A loader that counts what it was asked for."""

    def __init__(self, values: dict[int, Any]) -> None:
        self.values = values
        self.asked: list[list[int]] = []

    def __call__(self, ids: list[int]) -> Mapping[int, Any]:
        self.asked.append(list(ids))
        return {i: self.values[i] for i in ids if i in self.values}


def test_misses_are_loaded_in_one_call_and_kept(cache_backend):
    source = Source({1: "one", 2: "two", 3: "three"})
    family = bulk.Family("test-n", source, 60)
    cache.set("test-n:2", "cached two", 60)
    assert bulk.fetch(family, [1, 2, 3, 4]) == {1: "one", 2: "cached two", 3: "three"}
    assert source.asked == [[1, 3, 4]]  # one call for every miss; 4 does not exist
    assert bulk.fetch(family, [1, 2, 3]) == {1: "one", 2: "cached two", 3: "three"}
    assert source.asked == [[1, 3, 4]]  # all hits


def test_found_answers_without_a_read(cache_backend, monkeypatch):
    family = bulk.Family("test-f", Source({}), 60)

    def no_read(keys: Any) -> Any:
        raise AssertionError("read the cache again")

    monkeypatch.setattr(cache, "get_many", no_read)
    assert bulk.fetch(family, [7], found={"test-f:7": "from the round trip"}) == {
        7: "from the round trip"
    }


def test_a_buried_key_is_a_miss_and_is_not_filled_over(
    cache_backend, django_capture_on_commit_callbacks
):
    source = Source({1: "new"})
    family = bulk.Family("test-t", source, 60)
    cache.set("test-t:1", "old", 60)
    with django_capture_on_commit_callbacks(execute=True):
        bulk.bury(["test-t:1"])
        first = cache.get("test-t:1")
        # A reader during the write sees the tombstone: it loads, and does not store.
        assert bulk.fetch(family, [1]) == {1: "new"}
        assert cache.get("test-t:1") == first
    second = cache.get("test-t:1")
    assert bulk.is_tombstone(first)
    assert bulk.is_tombstone(second)
    assert second != first  # buried again on commit, with a new token
    cache.delete_many(["test-t:1"])  # as if the tombstone's seconds were over
    assert bulk.fetch(family, [1]) == {1: "new"}
    assert cache.get("test-t:1") == "new"


def test_keep_stores_less_than_the_loader_returns(cache_backend):
    family = bulk.Family(
        "test-k", Source({1: {"a": 1, "extra": 2}}), 60, keep=lambda v: {"a": v["a"]}
    )
    assert bulk.fetch(family, [1]) == {1: {"a": 1, "extra": 2}}  # the loader's, this time
    assert cache.get("test-k:1") == {"a": 1}
    assert bulk.fetch(family, [1]) == {1: {"a": 1}}


def test_an_entry_of_another_version_is_replaced(cache_backend):
    version = ["v1"]
    family = bulk.Family("test-v", Source({1: "x"}), 60, version=lambda: version[0])
    bulk.fetch(family, [1])
    assert cache.get("test-v:1") == ("v1", "x")
    version[0] = "v2"
    source = Source({1: "y"})
    family = bulk.Family("test-v", source, 60, version=lambda: version[0])
    assert bulk.fetch(family, [1]) == {1: "y"}
    assert cache.get("test-v:1") == ("v2", "y")


def test_a_rendering_is_loaded_from_its_source_and_buried_with_it(cache_backend):
    source = Source({1: "card"})
    family = bulk.Family("test-card", source, 60)
    upper = bulk.Rendering("test-upper", family, str.upper, lambda: "1")
    assert bulk.fetch(upper.family, [1]) == {1: "CARD"}
    assert cache.get("test-card:1") == "card"  # the source was filled on the way
    assert bulk.with_renderings(["test-card:1"]) == ["test-card:1", "test-upper:1"]
    bulk.bury(["test-card:1"])
    assert bulk.is_tombstone(cache.get("test-upper:1"))


def test_tokens_are_made_once_and_renewed(cache_backend):
    first = bulk.tokens({"test-gen": None, "test-rel": 60})
    assert bulk.tokens({"test-gen": None, "test-rel": 60}) == first
    bulk.renew({"test-gen": None})
    again = bulk.tokens({"test-gen": None, "test-rel": 60})
    assert again[0] != first[0]
    assert again[1] == first[1]


def test_listeners_hear_every_invalidation(cache_backend, django_capture_on_commit_callbacks):
    heard: list[str] = []
    remove = bulk.on_invalidation(lambda: heard.append("x"))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            bulk.bury(["test-l:1"])
            bulk.renew({"test-l-gen": None})
            assert len(heard) == 2  # at once...
        assert len(heard) == 4  # ...and on commit
    finally:
        remove()


def test_every_process_knows_the_api_renderings():
    # A worker that erases an account buries cards and profiles; it must bury the API's
    # renderings of them too, though it never serves the API (conduit/api/apps.py).
    code = (
        "import django; django.setup(); "
        "from conduit.platform.cache.bulk import with_renderings; "
        "print(with_renderings(['card:1', 'profile:2']))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    ).stdout
    assert "'api-card:1'" in out
    assert "'api-author:2'" in out
