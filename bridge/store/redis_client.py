"""The Redis client a store URL names: one server (`redis://`, `rediss://`, `unix://`) or the
master of a Sentinel-managed group (`redis+sentinel://`), optionally waiting for replicas to
acknowledge every write (`wait_replicas`).

    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?options]

The hosts are the Sentinels (port 26379 unless given); `service` is the master name they
monitor (`sentinel monitor <service> ...`); `db` the database number (0); user and password
authenticate to the master and its replicas. Options: `sentinel_password` (and
`sentinel_username`) authenticate to the Sentinels, `wait_replicas=N` and `wait_timeout=S`
(seconds, default 10) make each write wait for N replicas (Redis WAIT), `failover_timeout=S`
(default 30) is how long a command keeps resending to a master that is down while the
Sentinels promote another (on a `redis://` URL: redis-py's 3 retries unless given); `prefix` is the store's key prefix (taken by `open_store`). Redis Cluster is
not supported: the store's scripts touch keys they build themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.client import Pipeline
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from om_bridge.bridge.store import messages
from om_bridge.bridge.store.errors import StoreError, StoreUnavailable

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379
# Options of ours, taken off the URL before redis-py parses it.
OWN_OPTIONS = ("wait_replicas", "wait_timeout", "failover_timeout")
SENTINEL_OPTIONS = ("sentinel_password", "sentinel_username")
# A command whose connection failed is sent again after a backoff of up to BACKOFF_CAP seconds
# (redis-py's Retry), for about `failover_timeout` seconds in all.
BACKOFF_BASE, BACKOFF_CAP = 0.05, 1.0
DEFAULT_FAILOVER_TIMEOUT = 30.0
# Commands that write nothing (the rest, scripts included, are waited for with WAIT).
READ_ONLY = frozenset(
    {
        "AUTH",
        "CLIENT",
        "ECHO",
        "EXISTS",
        "GET",
        "HELLO",
        "HGET",
        "HGETALL",
        "HMGET",
        "INFO",
        "LLEN",
        "LRANGE",
        "MGET",
        "PING",
        "PTTL",
        "ROLE",
        "SCRIPT",
        "SELECT",
        "TIME",
        "TTL",
        "TYPE",
        "UNWATCH",
        "WAIT",
        "WATCH",
        "ZCARD",
        "ZRANGE",
        "ZRANGEBYSCORE",
        "ZREVRANGE",
        "ZSCORE",
    }
)


class ReplicationTimeout(StoreUnavailable, redis.RedisError):
    """A write reached the master but fewer replicas than `wait_replicas` acknowledged it in
    time: it is applied there, yet could be lost if the master failed now. Answered like an
    unreachable store (503 with `Retry-After`), so the sender retries."""


@dataclass(frozen=True)
class RedisOptions:
    """What a Redis store URL asks of the client beyond redis-py's own URL options."""

    wait_replicas: int = 0
    wait_timeout: float = 10.0
    failover_timeout: float = DEFAULT_FAILOVER_TIMEOUT
    failover_timeout_given: bool = False


def connect(url: str) -> redis.Redis:
    """A client for the store URL `url` (decoded str replies), without connecting yet."""
    clean, options = split_options(url)
    retry = Retry(
        ExponentialWithJitterBackoff(base=BACKOFF_BASE, cap=BACKOFF_CAP),
        max(3, int(options.failover_timeout / BACKOFF_CAP)),
        supported_errors=(redis.ConnectionError, redis.TimeoutError),
    )
    common: dict[str, Any] = {"decode_responses": True, "health_check_interval": 30}
    if not clean.startswith(SENTINEL_SCHEME):
        # One server: nothing takes its place while it is down, so redis-py's own few retries
        # unless the URL asks for longer (failover_timeout).
        if options.failover_timeout_given:
            common["retry"] = retry
        client = _client_class(options).from_url(clean, **common)
        return _with_options(client, options)
    target = parse_sentinel_url(clean)
    sentinel = Sentinel(
        target.sentinels,
        sentinel_kwargs={"socket_timeout": 2.0, **target.sentinel_kwargs},
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
        retry=retry,
        **target.master_kwargs,
        **common,
    )
    client = sentinel.master_for(
        target.service, redis_class=_client_class(options), connection_class=MasterConnection
    )
    return _with_options(client, options)


class MasterConnection(SentinelManagedConnection):
    """A connection to the master the Sentinels name at each (re)connect.

    redis-py asks the Sentinels only when a pool hands out a new connection; a pooled one whose
    socket broke reconnects inside the command's own retry, to the address it had: the dead
    master, for every retry of that command. Asking again on every socket connect makes those
    retries reach the promoted replica."""

    def _connect(self) -> Any:
        if self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        return super()._connect()


def _with_options(client: redis.Redis, options: RedisOptions) -> redis.Redis:
    client.store_options = options  # type: ignore[attr-defined]
    return client


def _client_class(options: RedisOptions) -> type[redis.Redis]:
    return redis.Redis if options.wait_replicas <= 0 else ReplicatedRedis


def split_options(url: str) -> tuple[str, RedisOptions]:
    """The URL without this module's own options, and those options; StoreError naming a bad
    one."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in OWN_OPTIONS}
    try:
        options = RedisOptions(
            wait_replicas=int(own.get("wait_replicas", 0)),
            wait_timeout=float(own.get("wait_timeout", 10.0)),
            failover_timeout=float(own.get("failover_timeout", DEFAULT_FAILOVER_TIMEOUT)),
            failover_timeout_given="failover_timeout" in own,
        )
    except ValueError:
        raise StoreError(messages.REDIS_BAD_OPTION.format(url=redact(url))) from None
    if options.wait_replicas < 0 or options.wait_timeout <= 0 or options.failover_timeout < 0:
        raise StoreError(messages.REDIS_BAD_OPTION.format(url=redact(url)))
    rest = urlencode([(k, v) for k, v in query if k not in OWN_OPTIONS])
    return urlunsplit(parts._replace(query=rest)), options


@dataclass(frozen=True)
class SentinelTarget:
    """A parsed `redis+sentinel://` URL."""

    sentinels: list[tuple[str, int]]
    service: str
    master_kwargs: dict[str, Any]
    sentinel_kwargs: dict[str, Any]


def parse_sentinel_url(url: str) -> SentinelTarget:
    """The Sentinels, service name and credentials a `redis+sentinel://` URL names;
    StoreError naming what is wrong (never showing a password)."""
    rest = url[len(SENTINEL_SCHEME) :]
    netloc, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    userinfo, at, hosts = netloc.rpartition("@")
    if not at:
        userinfo, hosts = "", netloc
    sentinels = []
    for entry in hosts.split(","):
        host, colon, port = entry.strip().rpartition(":")
        if not colon:
            host, port = entry.strip(), str(SENTINEL_PORT)
        host = host.strip("[]")
        if not host or not port.isdigit():
            raise StoreError(messages.SENTINEL_BAD_HOST.format(url=redact(url)))
        sentinels.append((host, int(port)))
    segments = [unquote(s) for s in path.split("/") if s]
    if not segments or len(segments) > 2 or (len(segments) == 2 and not segments[1].isdigit()):
        raise StoreError(messages.SENTINEL_BAD_PATH.format(url=redact(url)))
    master: dict[str, Any] = {"db": int(segments[1]) if len(segments) == 2 else 0}
    username, colon, password = userinfo.partition(":")
    if username:
        master["username"] = unquote(username)
    if colon and password:
        master["password"] = unquote(password)
    sentinel_kwargs: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in SENTINEL_OPTIONS:
            sentinel_kwargs[key.removeprefix("sentinel_")] = value
        elif key == "prefix":
            continue
        else:
            raise StoreError(messages.SENTINEL_BAD_OPTION.format(option=key, url=redact(url)))
    return SentinelTarget(sentinels, segments[0], master, sentinel_kwargs)


def redact(url: str) -> str:
    """The URL for an error message: its password as ***, without its query (a mistyped
    option may hold a password)."""
    from om_bridge.bridge.store import redact_url

    return redact_url(url.partition("?")[0])


class ReplicatedRedis(redis.Redis):
    """A client whose every write is followed, on the same connection, by WAIT for
    `wait_replicas` replicas; ReplicationTimeout when fewer acknowledged within
    `wait_timeout`. (WAIT counts the writes of the connection it runs on, so it has to share
    the write's connection: a write is sent as a two-command pipeline.)"""

    store_options: RedisOptions

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if str(args[0]).upper() in READ_ONLY:
            return super().execute_command(*args, **options)
        pipe = self.pipeline(transaction=False)
        pipe.execute_command(*args, **options)
        return pipe.execute()[0]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return ReplicatedPipeline(
            self.connection_pool,
            self.response_callbacks,
            transaction,
            shard_hint,
            self.store_options,
        )


class ReplicatedPipeline(Pipeline):
    """A pipeline (or MULTI/EXEC transaction) followed by WAIT when it wrote anything."""

    def __init__(self, *args: Any) -> None:
        *rest, self._options = args
        super().__init__(*rest)

    def _waited(self, connection: Any, commands: Any, result: Any) -> Any:
        if any(str(args[0]).upper() not in READ_ONLY for args, _ in commands):
            timeout_ms = max(1, int(self._options.wait_timeout * 1000))
            connection.send_command("WAIT", self._options.wait_replicas, timeout_ms)
            acked = int(connection.read_response())
            if acked < self._options.wait_replicas:
                raise ReplicationTimeout(
                    messages.REDIS_REPLICATION_TIMEOUT.format(
                        acked=acked,
                        wanted=self._options.wait_replicas,
                        timeout=self._options.wait_timeout,
                    )
                )
        return result

    def _execute_transaction(self, connection: Any, commands: Any, raise_on_error: bool) -> Any:
        result = super()._execute_transaction(connection, commands, raise_on_error)
        return self._waited(connection, commands, result)

    def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: bool) -> Any:
        result = super()._execute_pipeline(connection, commands, raise_on_error)
        return self._waited(connection, commands, result)
