"""The wrk scenarios: what each requests, with which Lua script (tools/bench/lua/) and arguments,
and running wrk on one of them."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchkit import LUA
from benchkit.cleanup import REGISTER_PASSWORD
from benchkit.cpu import CpuWatch
from benchkit.dataset import Inputs

READ, WRITE = "read", "write"  # which references a scenario is divided by (report.py)


@dataclass
class Scenario:
    name: str
    script: str
    path: str  # the URL's path (what wrk's static requests ask for)
    args: list[str]
    request: str  # what it does, for the JSON
    check: tuple[str, str, str | None] | None  # a request to try first: method, path, token
    kind: str = READ
    timelines: str | None = None  # "cold" or "warm": the reader's timeline before the run
    reader: str | None = None  # the feed scenarios' reader (username)


def write_lines(run_dir: Path, name: str, lines: list[str]) -> str:
    """A file of paths or slugs for a Lua script (one per line); returns its path."""
    path = run_dir / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def read_lines(run_dir: Path, name: str) -> list[str]:
    return (run_dir / name).read_text().split()


def all_scenarios(
    inputs: Inputs, tokens: dict[str, str], run_dir: Path, run_id: str
) -> list[Scenario]:
    """Every scenario, in the order they run; writes the files the Lua scripts read.
    ``tokens``: username -> token, for every actor and hot user."""
    q = urllib.parse.quote
    actors = inputs.actors
    details = [f"/api/articles/{q(s)}" for s in inputs.detail_slugs]
    comments = [f"{d}/comments" for d in details]
    profiles = [f"/api/profiles/{q(u)}" for u in inputs.profile_usernames]
    favorites = [f"/api/articles/{q(s)}/favorite" for s in inputs.favorite_slugs]
    follows = [f"/api/profiles/{q(u)}/follow" for u in inputs.follow_usernames]
    writer = tokens[actors.writer]
    hot = f"{len(actors.hot_users)} users ({actors.hot_users[0]} to {actors.hot_users[-1]} by id)"

    def lines(name: str, values: list[str]) -> str:
        return write_lines(run_dir, name, values)

    hot_tokens = lines("hot_tokens.txt", [tokens[name] for name in actors.hot_users])
    Path(hot_tokens).chmod(0o600)
    hot_favorite = f"/api/articles/{q(inputs.hot_article)}/favorite"
    hot_follow = f"/api/profiles/{q(inputs.hot_author)}/follow"
    return [
        *read_scenarios(inputs, tokens, details, comments, profiles, lines),
        Scenario("favorite_unfavorite", "toggle.lua", "/",
                 [lines("favorite.txt", favorites), tokens[actors.fav_actor]],
                 f"POST then DELETE /api/articles/<slug>/favorite as {actors.fav_actor} over "
                 f"{len(favorites)} articles", None, WRITE),
        Scenario("create_article", "create.lua", "/", [writer, run_id],
                 f"POST /api/articles as {actors.writer}, a unique title each", None, WRITE),
        Scenario("follow_unfollow", "toggle.lua", "/",
                 [lines("follow.txt", follows), tokens[actors.follow_actor]],
                 f"POST then DELETE /api/profiles/<username>/follow as {actors.follow_actor} "
                 f"over {len(follows)} random users it did not follow", None, WRITE),
        Scenario("comment", "comment.lua", "/",
                 [lines("comment.txt", comments), tokens[actors.comment_actor], run_id],
                 f"POST /api/articles/<slug>/comments as {actors.comment_actor} over the same "
                 f"{len(comments)} articles, a unique body each", None, WRITE),
        Scenario("register", "register.lua", "/", [run_id, REGISTER_PASSWORD],
                 "POST /api/users, a unique username and email each (Argon2 hashing)", None,
                 WRITE),
        Scenario("update_user", "update.lua", "/", [tokens[actors.update_actor], run_id],
                 f"PUT /api/user as {actors.update_actor}, a new bio each", None, WRITE),
        Scenario("hot_favorite", "crowd.lua", "/", [hot_favorite, hot_tokens],
                 f"POST by each of {hot}, then DELETE by each, /api/articles/<slug>/favorite "
                 f"on one article ({inputs.hot_article}, the least favorited none of them "
                 f"favorited: {inputs.hot_article_favorites})", None, WRITE),
        Scenario("hot_follow", "crowd.lua", "/", [hot_follow, hot_tokens],
                 f"POST by each of {hot}, then DELETE by each, /api/profiles/<username>/follow "
                 f"on one author ({inputs.hot_author}, the least followed none of them "
                 f"follows: {inputs.hot_author_followers} followers)", None, WRITE),
        Scenario("mix_90_10", "mix.lua", "/", [lines("mix.txt", details), writer,
                 f"{run_id}m"], "9 in 10: anonymous GET /api/articles or an article "
                 "(alternately); 1 in 10: POST /api/articles as the writer", None),
    ]  # fmt: skip


def read_scenarios(
    inputs: Inputs, tokens: dict[str, str], details: list[str], comments: list[str],
    profiles: list[str], lines: Callable[[str, list[str]], str],
) -> list[Scenario]:  # fmt: skip
    q = urllib.parse.quote
    cold = [f"/api/articles/{q(s)}" for s in inputs.cold_slugs]
    page = f"/article/{q(inputs.detail_slugs[0])}"
    reader = tokens[inputs.reader]
    return [
        Scenario("global_list", "static.lua", "/api/articles", [],
                 "GET /api/articles (anonymous)", ("GET", "/api/articles", None)),
        Scenario("by_tag", "static.lua", f"/api/articles?tag={q(inputs.tag)}", [],
                 f"GET /api/articles?tag= the most used tag ({inputs.tag}, "
                 f"{inputs.tag_articles} articles)", None),
        Scenario("by_author", "static.lua", f"/api/articles?author={q(inputs.author)}", [],
                 f"GET /api/articles?author= the median author ({inputs.author}, "
                 f"{inputs.author_articles} articles)", None),
        Scenario("favorited_by", "static.lua", f"/api/articles?favorited={q(inputs.favoriter)}",
                 [], f"GET /api/articles?favorited= the heaviest favoriter "
                 f"({inputs.favoriter}, {inputs.favoriter_favorites} favorites)", None),
        Scenario("signed_in_list", "static.lua", "/api/articles", [reader],
                 f"GET /api/articles signed in as {inputs.reader}",
                 ("GET", "/api/articles", reader)),
        *feed_scenarios(inputs, tokens),
        Scenario("article_detail", "paths.lua", "/", [lines("detail.txt", details)],
                 f"GET /api/articles/<slug> over {len(details)} random articles",
                 ("GET", details[0], None)),
        Scenario("comments", "paths.lua", "/", [lines("comments.txt", comments)],
                 f"GET /api/articles/<slug>/comments over the same {len(details)} articles",
                 ("GET", comments[0], None)),
        Scenario("article_detail_cold", "paths.lua", "/", [lines("cold.txt", cold)],
                 f"GET /api/articles/<slug> over {len(cold)} random articles the warm-up did "
                 "not read, each once a pass (a run's cache starts empty)",
                 ("GET", cold[0], None)),
        Scenario("profile", "paths.lua", "/", [lines("profiles.txt", profiles)],
                 f"GET /api/profiles/<username> over {len(profiles)} random users",
                 ("GET", profiles[0], None)),
        Scenario("profile_signed_in", "paths.lua", "/", [lines("profiles.txt", profiles),
                 reader], f"GET /api/profiles/<username> over the same {len(profiles)} users, "
                 f"signed in as {inputs.reader}", ("GET", profiles[0], reader)),
        # One article everyone reads (a link on a popular page), through the API and as a page.
        Scenario("article_one", "static.lua", details[0], [],
                 f"GET {details[0]} (one article, anonymous)", ("GET", details[0], None)),
        Scenario("home_page", "static.lua", "/", [], "GET / (the home page, anonymous)",
                 ("GET", "/", None)),
        Scenario("article_page", "static.lua", page, [],
                 f"GET {page} (the same article's page, anonymous)", ("GET", page, None)),
    ]  # fmt: skip


def feed_readers(inputs: Inputs) -> dict[str, str]:
    """Feed scenario suffix -> the reader (benchkit/feed_shapes.py's when the data has them)."""
    readers = {"": inputs.reader}
    if inputs.heavy_reader:
        readers["_following_1000"] = inputs.heavy_reader
    if inputs.fan_reader:
        readers["_celebrity_fan"] = inputs.fan_reader
    return readers


def feed_scenarios(inputs: Inputs, tokens: dict[str, str]) -> list[Scenario]:
    """The home feed of each reader, first with their timelines cold (``_fallback``: the
    read-time query of conduit/articles/feed.py, as before timelines), then warm (rebuilt by the
    bench right before). Without conduit.timelines both are the read-time query."""
    following = {inputs.reader: inputs.reader_following, inputs.heavy_reader:
                 inputs.heavy_following, inputs.fan_reader: inputs.fan_following}  # fmt: skip
    out = []
    for state, suffix in (("cold", "_fallback"), ("warm", "")):
        for name, reader in feed_readers(inputs).items():
            token = tokens[reader]
            request = (f"GET /api/articles/feed signed in as {reader} (follows "
                       f"{following[reader]}), its timeline {state}")  # fmt: skip
            check = ("GET", "/api/articles/feed", token)
            out.append(Scenario(f"feed{name}{suffix}", "static.lua", "/api/articles/feed",
                                [token], request, check, READ, state, reader))  # fmt: skip
    return out


def selected(scenarios: list[Scenario], names: str) -> list[Scenario]:
    """``names`` (BENCH_SCENARIOS, comma-separated): a subset, in the bench's order; all when
    empty. An unknown name ends the run."""
    wanted = [name for name in names.split(",") if name]
    unknown = set(wanted) - {scenario.name for scenario in scenarios}
    if unknown:
        sys.exit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; known: "
                 f"{', '.join(scenario.name for scenario in scenarios)}")  # fmt: skip
    return [scenario for scenario in scenarios if not wanted or scenario.name in wanted]


def parse_wrk_output(text: str) -> dict[str, Any]:
    """The ``BENCH_RESULT {...}`` line printed by lua/report.lua's done()."""
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            return result
    raise ValueError("no BENCH_RESULT line in wrk's output:\n" + text[-2000:])


@dataclass
class Wrk:
    """wrk -t1 with the run's connections and timeout, its CPU and the servers' watched."""

    connections: int
    timeout: int
    watch: CpuWatch

    def run(
        self, url: str, script: str, args: list[str], duration: int
    ) -> tuple[dict[str, Any], dict[str, float | None]]:
        command = [
            "wrk", "-t1", f"-c{self.connections}", f"-d{duration}s", "--latency",
            "--timeout", f"{self.timeout}s", "-s", str(LUA / script), url, "--", *args,
        ]  # fmt: skip
        self.watch.start()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=duration + 60, check=False
            )
        except subprocess.TimeoutExpired:
            sys.exit(f"wrk did not finish within {duration + 60:.0f} s: {' '.join(command)}")
        cpu = self.watch.stop()
        if done.returncode != 0:
            sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return parse_wrk_output(done.stdout), cpu
