"""Timelines in a Redis Cluster: one sorted set per user, ``tl:{<user id>}``, score = article id.

The braces make the user id the key's hash tag, so the cluster shards timelines by user. A built
timeline holds the member ``built`` at score +inf: a window read newest first (``ZREVRANGE``,
one round trip) meets it first, and a missing key is a timeline never built or lost with its
node. Writes that add to timelines run a small script that adds only to a key that exists, and
trims the set to the marker plus ``size`` members (``ZREMRANGEBYRANK``); a fan-out chunk is one
pipeline to each master holding some of its keys (one round trip each), so a master that is
down costs its own followers the push (retried), not those of the live ones.

Short socket timeouts (``TIMELINE_SOCKET_TIMEOUT``, ``TIMELINE_CONNECT_TIMEOUT``) and no
cluster-level retries: a dead node degrades the feed to its query quickly instead of hanging it.
"""

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

from django.conf import settings
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError
from redis.retry import Retry

from conduit.timelines.stores import StoreUnavailable

BUILT = b"built"

# KEYS[1] the timeline, ARGV[1] its size, ARGV[2..] article ids. Adds only to a built timeline.
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 2))
return 1
"""
_ADD_SHA = hashlib.sha1(_ADD.encode(), usedforsecurity=False).hexdigest()
# KEYS[1] the timeline, ARGV the article ids: the timeline becomes the marker and these.
_REPLACE = """
redis.call('DEL', KEYS[1])
redis.call('ZADD', KEYS[1], 'inf', 'built')
for i = 1, #ARGV do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
return 1
"""


def timeline_key(user_id: int) -> str:
    return f"tl:{{{user_id}}}"


def cluster_nodes(url: str) -> list[ClusterNode]:
    """``redis-cluster://h:p,h:p,...`` as the client's startup nodes."""
    parts = urlsplit(url)
    if parts.scheme != "redis-cluster" or not parts.netloc:
        raise ValueError(f"TIMELINE_URL must be redis-cluster://host:port,...; got {url!r}")
    nodes = []
    for address in parts.netloc.split(","):
        host, _, port = address.rpartition(":")
        nodes.append(ClusterNode(host or "127.0.0.1", int(port)))
    return nodes


@contextmanager
def _answering() -> Iterator[None]:
    try:
        yield
    except (RedisError, RedisClusterException, OSError) as exc:
        raise StoreUnavailable(repr(exc)) from exc


class RedisClusterStore:
    def __init__(self, client: RedisCluster, *, size: int) -> None:
        self.client = client
        self.size = size

    @classmethod
    def from_url(cls, url: str, *, size: int) -> "RedisClusterStore":
        nodes = cluster_nodes(url)
        with _answering():  # the client reads the cluster's slots as it starts
            client = RedisCluster(
                startup_nodes=nodes,
                socket_timeout=settings.TIMELINE_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.TIMELINE_CONNECT_TIMEOUT,
                retry=Retry(NoBackoff(), 1),  # one more try (a failover), then the fallback
                decode_responses=False,
            )
        return cls(client, size=size)

    def push(self, article_id: int, user_ids: Sequence[int]) -> None:
        """One EVALSHA of ``_ADD`` per timeline, in one pipeline to each master holding some of
        them (one round trip each). A master that fails does not stop the others: the live
        ones take their timelines, then ``StoreUnavailable`` names the rest and the task
        retries the chunk (a push is idempotent)."""
        if not user_ids:
            return
        with _answering():
            by_node: dict[str, tuple[ClusterNode, list[str]]] = {}
            for user_id in user_ids:
                key = timeline_key(user_id)
                node = self.client.get_node_from_key(key)
                by_node.setdefault(node.name, (node, []))[1].append(key)
        failed: dict[str, Exception] = {}
        for name, (node, keys) in by_node.items():
            try:
                self._push_to(node, keys, article_id)
            except (RedisError, RedisClusterException, OSError) as exc:
                failed[name] = exc
        if failed:
            # Its slots may have moved (a failover): the next try asks the cluster again.
            with suppress(RedisError, RedisClusterException, OSError):
                self.client.nodes_manager.initialize()
            raise StoreUnavailable(f"push of {article_id} failed on {failed!r}")

    def _push_to(self, node: ClusterNode, keys: list[str], article_id: int) -> None:
        """A node's share of a push as one pipeline (not transactional: each script is atomic
        on its own). A node that does not know the script yet (new, restarted, or a promoted
        replica) loads it, then the pipeline runs again: loaded node by node, so a master that
        is down does not keep the script from the others."""
        connection = self.client.get_redis_connection(node)
        sha = _ADD_SHA
        for attempt in (1, 2):
            pipe = connection.pipeline(transaction=False)
            for key in keys:
                pipe.execute_command("EVALSHA", sha, 1, key, self.size, article_id)
            try:
                pipe.execute()
                return
            except NoScriptError:
                if attempt == 2:
                    raise
                sha = str(connection.script_load(_ADD))

    def add(self, user_id: int, article_ids: Sequence[int]) -> bool:
        if not article_ids:
            return False
        with _answering():
            return bool(self._eval(_ADD, timeline_key(user_id), self.size, *article_ids))

    def _eval(self, script: str, key: str, *args: object) -> object:
        """EVAL on the key's node, named: without it redis-py asks the server for a script's
        keys (``COMMAND GETKEYS``), one more round trip."""
        node = self.client.get_node_from_key(key)
        return self.client.execute_command("EVAL", script, 1, key, *args, target_nodes=node)

    def remove(self, article_ids: Sequence[int], user_ids: Sequence[int]) -> None:
        if not article_ids or not user_ids:
            return
        with _answering():
            pipe = self.client.pipeline()
            for user_id in user_ids:
                pipe.zrem(timeline_key(user_id), *article_ids)
            pipe.execute()

    def replace(self, user_id: int, article_ids: Sequence[int]) -> None:
        newest = sorted(set(article_ids), reverse=True)[: self.size]
        with _answering():
            self._eval(_REPLACE, timeline_key(user_id), *newest)

    def window(self, user_id: int, count: int) -> list[int] | None:
        with _answering():
            members = self.client.zrevrange(timeline_key(user_id), 0, count)
        if not members or members[0] != BUILT:
            return None
        return [int(member) for member in members[1:]]

    def drop(self, user_id: int) -> None:
        with _answering():
            self.client.delete(timeline_key(user_id))
