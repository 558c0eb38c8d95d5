"""The Redis client a store URL names: `redis+sentinel://` parsing, redaction, the WAIT option
against a real redis-server, and scripts that add nothing twice when redis-py resends them."""

from __future__ import annotations

import uuid

import pytest
from store_backends import redis_url  # noqa: F401 - fixture

from om_bridge.bridge.store import SessionKey, StoreError, open_store, redact_url
from om_bridge.bridge.store.redis_client import (
    ReplicationTimeout,
    parse_sentinel_url,
    split_options,
)


def test_a_sentinel_url_names_the_sentinels_service_db_and_credentials() -> None:
    target = parse_sentinel_url(
        "redis+sentinel://app:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:26381/my%20master/3"
        "?sentinel_password=s3cret&sentinel_username=watcher&prefix=x:"
    )
    assert target.sentinels == [("10.0.0.1", 26380), ("sentinel-b", 26379), ("::1", 26381)]
    assert target.service == "my master"
    assert target.master_kwargs == {"db": 3, "username": "app", "password": "p@ss"}
    assert target.sentinel_kwargs == {"password": "s3cret", "username": "watcher"}
    plain = parse_sentinel_url("redis+sentinel://s1/mymaster")
    assert plain.master_kwargs == {"db": 0} and plain.sentinel_kwargs == {}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://:hunter2@s1:x/mymaster", "host[:port]"),
        ("redis+sentinel://:hunter2@s1,/mymaster", "host[:port]"),
        ("redis+sentinel://:hunter2@s1", "service name"),
        ("redis+sentinel://:hunter2@s1/mymaster/zero", "service name"),
        ("redis+sentinel://:hunter2@s1/mymaster/0/extra", "service name"),
        ("redis+sentinel://:hunter2@s1/mymaster?sentinel_pasword=hunter2", "sentinel_pasword"),
    ],
)
def test_a_bad_sentinel_url_is_refused_naming_the_problem_not_the_password(
    url: str, problem: str
) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert problem in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "query", ["wait_replicas=one", "wait_replicas=-1", "wait_timeout=0", "failover_timeout=x"]
)
def test_bad_wait_options_are_refused(query: str) -> None:
    with pytest.raises(StoreError, match="wait_replicas must be"):
        split_options(f"redis://:hunter2@h:6379/0?{query}")


def test_own_options_are_taken_off_the_url() -> None:
    clean, options = split_options("redis://h:6379/0?wait_replicas=2&wait_timeout=0.5&x=1")
    assert clean == "redis://h:6379/0?x=1"
    assert (options.wait_replicas, options.wait_timeout) == (2, 0.5)
    assert not options.failover_timeout_given


def test_redaction_hides_both_passwords() -> None:
    assert (
        redact_url("redis+sentinel://u:pw@s1,s2/m/0?sentinel_password=spw&prefix=a:")
        == "redis+sentinel://u:***@s1,s2/m/0?sentinel_password=***&prefix=a:"
    )
    assert redact_url("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.redis
def test_a_write_no_replica_acknowledged_fails_and_reads_still_work(redis_url: str) -> None:
    store = open_store(
        redis_url + f"?wait_replicas=1&wait_timeout=0.1&prefix=w-{uuid.uuid4().hex}:"
    )
    try:
        key = SessionKey("t", "u", "s")
        with pytest.raises(ReplicationTimeout, match="0 of the 1 replicas") as refused:
            store.save_session(key, {"a": 1})
        # Answered like an unreachable store: 503 with Retry-After, so the sender retries.
        assert (refused.value.status, refused.value.code) == (503, "store_unavailable")
        # The write reached the (only) server; it is the acknowledgement that is missing.
        assert store.load_session(key) == {"a": 1}
        with pytest.raises(ReplicationTimeout):
            store.append_output(key, {"source": "bot", "text": "hi"})
    finally:
        store.close()


@pytest.mark.redis
def test_a_resent_script_adds_its_record_once(redis_url: str) -> None:
    store = open_store(redis_url + f"?prefix=op-{uuid.uuid4().hex}:")
    try:
        op = store._op_key()  # type: ignore[attr-defined]
        k = store._k  # type: ignore[attr-defined]
        keys = [k("o:seq"), k("o:pending"), k("o:due"), op]
        args = [store.prefix, "key-1", "send", "{}", "1.0", 60]  # type: ignore[attr-defined]
        # What redis-py does when the reply of the first run was lost: the same command again.
        first = store._run("OUTBOX_PUT", keys, args)  # type: ignore[attr-defined]
        again = store._run("OUTBOX_PUT", keys, args)  # type: ignore[attr-defined]
        assert first == again
        assert len(store.outbox_pending("key-1")) == 1
        out_keys = [k("outseq:", "s"), k("out:", "s"), store._op_key()]  # type: ignore[attr-defined]
        out_args = ['{"text":"x"}', 500, k("outputs"), "s", 60]
        seq = store._run("APPEND_OUTPUT", out_keys, out_args)  # type: ignore[attr-defined]
        assert store._run("APPEND_OUTPUT", out_keys, out_args) == seq  # type: ignore[attr-defined]
        assert store._r.zcard(k("out:", "s")) == 1  # type: ignore[attr-defined]
    finally:
        store.close()


@pytest.mark.redis
def test_a_resent_dedupe_mark_is_still_the_first_time(redis_url: str) -> None:
    store = open_store(redis_url + f"?prefix=seen-{uuid.uuid4().hex}:")
    try:
        key, k = [store._k("seen:", "m")], store._run  # type: ignore[attr-defined]
        assert k("SEEN", key, ["call-1", 60_000]) == 0
        assert k("SEEN", key, ["call-1", 60_000]) == 0  # the same call, resent
        assert k("SEEN", key, ["call-2", 60_000]) == 1  # another call: a duplicate
        assert store.seen("other", 60) is False and store.seen("other", 60) is True
        qp = store._ip  # type: ignore[attr-defined]
        keys = [
            store._k("seen:", "w"),
            qp + "o:seq",
            qp + "o:pending",
            qp + "o:due",
            qp + "o:lease",
        ]  # type: ignore[attr-defined]
        args = [qp, "q", "webhook", "{}", "1.0", 60_000, "", "2.0", "call-3"]
        first = k("ACCEPT_INBOUND", keys, args)
        assert first and k("ACCEPT_INBOUND", keys, args) == first
        assert len(store.inbound_pending("q")) == 1
        assert not k("ACCEPT_INBOUND", keys, [*args[:-1], "call-4"])
    finally:
        store.close()
