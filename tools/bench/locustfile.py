"""Locust user journeys on Conduit (``make locust``, bench/README.md "Locust").

Two kinds of visitor, seven readers for three members:

* ``Reader`` (anonymous): the home page and the article list, then articles (the page and its
  comments through the API), now and then a tag's list.
* ``Member``: registers an account of its own (``locust-<random>``) and signs in with it, then
  reads its feed and the list, opens articles, favorites and unfavorites, comments and, more
  rarely, publishes.

Locust runs closed-loop users (each waits for its answer, then thinks 1-3 s: ``LOCUST_WAIT``):
the mix of a site's visitors, to watch live. ``make bench-capacity`` measures the knees with an
open model (ADR 0036). Everything a member writes stays in the target's database: point it at a
disposable deployment (make run, make stack), never at real users.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import FastHttpUser, between, task

JSON = {"Accept": "application/json"}
# A visitor's think time between two tasks, in seconds: "1,3" (make locust's LOCUST_WAIT).
THINK = tuple(float(s) for s in os.environ.get("LOCUST_WAIT", "1,3").split(","))


def slugs_from(answer: Any) -> list[str]:
    try:
        return [a["slug"] for a in answer.json()["articles"]]
    except (ValueError, KeyError, TypeError):
        return []


class Visitor(FastHttpUser):
    abstract = True
    wait_time = between(THINK[0], THINK[-1])
    slugs: list[str]
    headers: dict[str, str]

    def on_start(self) -> None:
        self.slugs, self.headers = [], dict(JSON)

    def list_articles(self, query: str = "", name: str = "/api/articles") -> None:
        with self.client.get(f"/api/articles{query}", headers=self.headers, name=name,
                             catch_response=True) as answer:  # fmt: skip
            found = slugs_from(answer)
            if answer.status_code == 200:
                self.slugs = found or self.slugs
                answer.success()

    def open_article(self) -> None:
        if not self.slugs:
            self.list_articles()
        if self.slugs:
            slug = random.choice(self.slugs)  # noqa: S311 - a visitor's whim, not a secret
            self.client.get(f"/article/{slug}", name="/article/[slug]")
            self.client.get(f"/api/articles/{slug}/comments", headers=self.headers,
                            name="/api/articles/[slug]/comments")  # fmt: skip


class Reader(Visitor):
    weight = 7

    @task(4)
    def home(self) -> None:
        self.client.get("/", name="/ (home page)")
        self.list_articles("?limit=10&offset=0", "/api/articles?limit=10")

    @task(4)
    def read(self) -> None:
        self.open_article()

    @task(1)
    def by_tag(self) -> None:
        answer = self.client.get("/api/tags", headers=JSON)
        tags = answer.json().get("tags", []) if answer.status_code == 200 else []
        if tags:
            tag = random.choice(tags[:10])  # noqa: S311
            self.list_articles(f"?tag={tag}", "/api/articles?tag=[tag]")


class Member(Visitor):
    weight = 3

    def on_start(self) -> None:
        super().on_start()
        name = f"locust-{uuid.uuid4().hex[:12]}"
        email, password = f"{name}@locust.conduit.local", f"Lc-{uuid.uuid4().hex}"
        user = {"username": name, "email": email, "password": password}
        self.client.post("/api/users", json={"user": user}, headers=JSON, name="/api/users")
        answer = self.client.post(
            "/api/users/login",
            headers=JSON,
            name="/api/users/login",
            json={"user": {"email": email, "password": password}},
        )
        if answer.status_code == 200:
            self.headers["Authorization"] = f"Token {answer.json()['user']['token']}"

    @task(3)
    def feed(self) -> None:
        self.client.get("/api/articles/feed", headers=self.headers, name="/api/articles/feed")
        self.list_articles()

    @task(3)
    def read(self) -> None:
        self.open_article()

    @task(2)
    def favorite(self) -> None:
        if not self.slugs:
            return self.list_articles()
        slug = random.choice(self.slugs)  # noqa: S311
        url, name = f"/api/articles/{slug}/favorite", "/api/articles/[slug]/favorite"
        self.client.post(url, headers=self.headers, name=name)
        self.client.delete(url, headers=self.headers, name=name)
        return None

    @task(1)
    def comment(self) -> None:
        if not self.slugs:
            return self.list_articles()
        slug = random.choice(self.slugs)  # noqa: S311
        self.client.post(
            f"/api/articles/{slug}/comments",
            headers=self.headers,
            name="/api/articles/[slug]/comments",
            json={"comment": {"body": "Good read, thanks (a Locust member)."}},
        )
        return None

    @task(1)
    def publish(self) -> None:
        article = {
            "title": f"Locust notes {uuid.uuid4().hex[:8]}",
            "description": "A load test",
            "body": "Written by a Locust member of `make locust`.",
            "tagList": ["locust"],
        }
        self.client.post("/api/articles", headers=self.headers, json={"article": article},
                         name="/api/articles (publish)")  # fmt: skip
