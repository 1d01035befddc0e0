"""The scenarios' API tokens. Minted in this process with the project's own ``token_for``: the
runner has the server's ``SECRET_KEY`` (tools/bench/run.sh exports it to both), and signing in
through the API costs an Argon2 verification per user, ~30 ms each for the 256 hot users. One
minted token is tried on the server first; when it is refused (``BENCH_TARGET``, a server with a
secret of its own), every user signs in through the API instead, with the bulk data's password.
Django must be set up."""

from __future__ import annotations

import json
import sys

from benchkit.net import http


def sign_in(base: str, username: str) -> str:
    from conduit.demo.bulk.plan import BULK_PASSWORD

    email = f"{username}@bench.conduit.local"
    body = {"user": {"email": email, "password": BULK_PASSWORD}}
    status, answer = http("POST", f"{base}/api/users/login", body)
    if status != 200:
        sys.exit(f"could not sign in as {email} ({status}): is the data from seed_bulk?")
    return str(json.loads(answer)["user"]["token"])


def tokens_for(base: str, usernames: list[str]) -> tuple[dict[str, str], str]:
    """username -> token for each user, and how they were made (``minted`` or ``signed in``)."""
    from conduit.api.authentication import token_for
    from conduit.users.models import User

    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    missing = sorted(set(usernames) - set(users))
    if missing:
        sys.exit(f"no such users: {', '.join(missing[:5])}")
    minted = {name: token_for(users[name]) for name in usernames}
    status, _ = http("GET", f"{base}/api/user", token=minted[usernames[0]])
    if status == 200:
        return minted, "minted"
    print(f"a minted token answered {status}: signing {len(usernames)} users in through the "
          "API instead", flush=True)  # fmt: skip
    return {name: sign_in(base, name) for name in usernames}, "signed in"
