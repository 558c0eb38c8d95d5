"""The Redis store: for several workers or machines; also carries cross-process output wake-ups
(pub/sub) and the leader lock."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import Collection, Iterator
from typing import Any, cast

import redis

from om_bridge.bridge.store import messages
from om_bridge.bridge.store import redis_scripts as lua
from om_bridge.bridge.store.base import (
    OUTPUTS_KEPT,
    Store,
    check_end_status,
    check_update,
    ended_conflict,
)
from om_bridge.bridge.store.errors import NotFound, StoreConflict
from om_bridge.bridge.store.records import (
    Handover,
    InboundCompletion,
    OutboxItem,
    SessionKey,
    UploadQuota,
    UploadUsage,
)
from om_bridge.bridge.store.redis_client import RedisOptions, connect
from om_bridge.bridge.store.redis_codec import (
    customer_index,
    decode_handover,
    decode_item,
    dumps,
    encode_handover,
)

log = logging.getLogger(__name__)
# The client is made with decode_responses=True, so replies are str; redis-py's annotations
# cannot express that (they say bytes | str), hence the casts to str types below.
DEFAULT_PREFIX = "om-bridge:"
# The inbound queue reuses the outbox scripts and key layout under this extra prefix.
INBOUND_PREFIX = "in:"


class RedisStore(Store):
    """Store backed by one Redis database (one server, or the master of a Sentinel group);
    every key starts with `prefix`."""

    # Pub/sub (run from `start()`) wakes waiters of other processes; this re-read only covers a
    # lost subscription. A store not started re-reads every `unstarted_poll` instead.
    cross_process_poll = 2.0

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__()
        self.prefix = prefix
        self._r = connect(url)
        options: RedisOptions = getattr(self._r, "store_options", RedisOptions())
        # Longer than redis-py goes on resending one command (`failover_timeout`).
        self._op_ttl = max(60, int(2 * options.failover_timeout))
        self._scripts = {
            name: self._r.register_script(getattr(lua, name))
            for name in (
                "CREATE_HANDOVER",
                "FINISH_HANDOVER",
                "OUTBOX_PUT",
                "OUTBOX_CLAIM",
                "OUTBOX_REMOVE",
                "OUTBOX_RETRY",
                "OUTBOX_RENEW",
                "APPEND_OUTPUT",
                "ACQUIRE_LOCK",
                "RELEASE_LOCK",
                "ACCEPT_INBOUND",
                "INBOUND_DONE",
                "PUT_UPLOAD",
                "UPLOAD_USAGE",
                "SEEN",
            )
        }
        self._channel = prefix + "outputs"
        self._subscriber: _OutputSubscriber | None = None
        self._subscriber_lock = threading.Lock()

    @staticmethod
    def _ttl(seconds: float | None) -> int | None:
        return None if seconds is None else max(1, int(seconds))

    def _op_key(self) -> str:
        """A fresh operation key: a script that adds a record keeps its result there for
        `_op_ttl` seconds, so redis-py's resend after a broken connection adds nothing twice."""
        return self._k("op:", uuid.uuid4().hex)

    def _k(self, *parts: str) -> str:
        return self.prefix + "".join(parts)

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[script](keys=keys, args=args)

    # -- sessions ---------------------------------------------------------------------------
    def load_session(self, key: SessionKey) -> dict | None:
        """The saved state of a session, or None if it has none."""
        raw = self._r.get(self._k("s:", key.as_str()))
        return None if raw is None else json.loads(raw)

    def save_session(self, key: SessionKey, state: dict) -> None:
        """Replace the saved state of a session (and note it in the index of sessions by the
        time of their last save, which `count_sessions_without_handover` counts)."""
        ttl = self._ttl(self.session_ttl)
        pipe = self._r.pipeline(transaction=False)
        pipe.set(self._k("s:", key.as_str()), dumps(state), ex=ttl)
        pipe.zadd(self._k("s:index"), {key.as_str(): time.time()})
        pipe.execute()

    def count_sessions_without_handover(self) -> int:
        """Sessions saved within the retention (whose keys have not expired) less the open
        handovers; index entries of expired sessions are dropped here."""
        index = self._k("s:index")
        pipe = self._r.pipeline(transaction=False)
        if self.session_ttl is not None:
            pipe.zremrangebyscore(index, "-inf", time.time() - self.session_ttl)
        pipe.zcard(index)
        pipe.zcard(self._k("h:open"))
        *_, sessions, handovers = pipe.execute()
        return max(0, int(sessions) - int(handovers))

    # -- handovers --------------------------------------------------------------------------
    def create_handover(self, h: Handover) -> Handover:
        """Store a new handover; StoreConflict if its session already has an open one."""
        now = time.time()
        h = dataclasses.replace(h, created_at=h.created_at or now, updated_at=h.updated_at or now)
        fields = encode_handover(h)
        keys = [
            self._k("h:", h.id),
            self._k("h:open:s:", fields["_skey"]),
            self._k("h:open"),
            self._k("h:open:p:", h.provider_id),
            self._k("h:cust:", fields["_cust"]),
            self._k("h:conv:", h.conversation_id or ""),
        ]
        args = [self.prefix, h.id, fields["created_at"], "1" if h.conversation_id else "0"]
        for name, value in fields.items():
            args += [name, value]
        result = self._run("CREATE_HANDOVER", keys, args)
        if result[0] == "open":
            raise StoreConflict(
                messages.OPEN_HANDOVER_EXISTS.format(session=fields["_skey"], handover_id=result[1])
            )
        if result[0] == "exists":
            raise StoreConflict(messages.HANDOVER_ID_EXISTS.format(handover_id=h.id))
        return h

    def get_handover(self, handover_id: str) -> Handover | None:
        """The handover with this id, open or ended, or None."""
        return decode_handover(cast("dict[str, str]", self._r.hgetall(self._k("h:", handover_id))))

    def _by_pointer(self, pointer_key: str) -> Handover | None:
        handover_id = cast("str | None", self._r.get(pointer_key))
        return None if handover_id is None else self.get_handover(handover_id)

    def open_handover_for_session(self, key: SessionKey) -> Handover | None:
        """The session's open handover, or None."""
        return self._by_pointer(self._k("h:open:s:", key.as_str()))

    def handover_by_conversation(self, conversation_id: str) -> Handover | None:
        """The newest handover (open or ended) with this Genesys conversation id, or None."""
        h = self._by_pointer(self._k("h:conv:", conversation_id))
        return h if h is not None and h.conversation_id == conversation_id else None

    def open_handovers_by_customer(
        self, integration_id: str | None, customer_id: str
    ) -> list[Handover]:
        """Every open handover of this customer id on this integration, oldest first."""
        index = self._k("h:cust:", customer_index(integration_id, customer_id))
        ids = cast("list[str]", self._r.zrange(index, 0, -1))
        pipe = self._r.pipeline(transaction=False)
        for handover_id in ids:
            pipe.hgetall(self._k("h:", handover_id))
        found = [decode_handover(raw) for raw in pipe.execute()]
        return [h for h in found if h is not None and h.is_open]

    def update_handover(self, handover_id: str, **fields: Any) -> Handover:
        """Change the `UPDATABLE_FIELDS` of a handover and return it; NotFound if absent."""
        check_update(fields)
        hkey = self._k("h:", handover_id)
        ended_ttl = self._ttl(self.ended_handover_ttl)

        # Optimistic transaction: WATCH the hash and the index keys touched, retry on a race.
        def txn(pipe: redis.client.Pipeline) -> Handover:
            current = decode_handover(cast("dict[str, str]", pipe.hgetall(hkey)))
            if current is None:
                raise NotFound(messages.HANDOVER_NOT_FOUND.format(handover_id=handover_id))
            if "status" in fields and not current.is_open and fields["status"] != current.status:
                raise ended_conflict(handover_id)
            new = dataclasses.replace(current, updated_at=time.time(), **fields)
            old_enc, new_enc = encode_handover(current), encode_handover(new)
            conv_changed = new.conversation_id != current.conversation_id
            old_conv = self._k("h:conv:", current.conversation_id or "")
            new_conv = self._k("h:conv:", new.conversation_id or "")
            keep_newer = False
            if conv_changed:
                pipe.watch(old_conv, new_conv)
                other = cast("str | None", pipe.get(new_conv)) if new.conversation_id else None
                if other and other != handover_id:
                    other_created = pipe.hget(self._k("h:", other), "created_at")
                    keep_newer = other_created is not None and float(other_created) > new.created_at
                old_pointer = pipe.get(old_conv) if current.conversation_id else None
            pipe.multi()
            pipe.delete(hkey)
            # redis-py types the mapping's keys invariantly, so no dict[str, str] matches
            pipe.hset(hkey, mapping=new_enc)  # type: ignore[arg-type]
            if not new.is_open and ended_ttl is not None:
                pipe.expire(hkey, ended_ttl)  # rewriting the hash dropped its retention TTL
            if conv_changed:
                if current.conversation_id and old_pointer == handover_id:
                    pipe.delete(old_conv)
                if new.conversation_id and not keep_newer:
                    pipe.set(new_conv, handover_id)
            if current.is_open and old_enc["_cust"] != new_enc["_cust"]:
                pipe.zrem(self._k("h:cust:", old_enc["_cust"]), handover_id)
                pipe.zadd(self._k("h:cust:", new_enc["_cust"]), {handover_id: new.created_at})
            return new

        # With value_from_callable redis-py returns txn's value, though its annotation says the
        # callable returns None and the result is the EXEC reply.
        result = self._r.transaction(txn, hkey, value_from_callable=True)  # type: ignore[arg-type]
        return cast(Handover, result)

    def finish_handover(self, handover_id: str, status: str, reason: str) -> bool:
        """End a handover atomically: True for exactly one caller, False if it already ended
        (or does not exist)."""
        check_end_status(status)
        finished = bool(
            self._run(
                "FINISH_HANDOVER",
                [self._k("h:", handover_id)],
                [self.prefix, status, reason, repr(time.time())],
            )
        )
        ttl = self._ttl(self.ended_handover_ttl)
        if finished and ttl is not None:
            # Retention: the ended handover's record (and its conversation pointer, unless a
            # newer handover took it over, which resets its TTL) expires after the retention.
            h = self.get_handover(handover_id)
            pipe = self._r.pipeline(transaction=False)
            pipe.expire(self._k("h:", handover_id), ttl)
            if h is not None and h.conversation_id:
                conv = self._k("h:conv:", h.conversation_id)
                if self._r.get(conv) == handover_id:
                    pipe.expire(conv, ttl)
            pipe.execute()
        return finished

    def open_handovers(self, provider_id: str | None = None) -> list[Handover]:
        """All open handovers, or those of one provider, oldest first."""
        index = self._k("h:open:p:", provider_id) if provider_id else self._k("h:open")
        ids = cast("list[str]", self._r.zrange(index, 0, -1))
        pipe = self._r.pipeline(transaction=False)
        for handover_id in ids:
            pipe.hgetall(self._k("h:", handover_id))
        found = [decode_handover(raw) for raw in pipe.execute()]
        return [h for h in found if h is not None and h.is_open]

    # -- dedupe -----------------------------------------------------------------------------
    def seen(self, key: str, ttl_seconds: float) -> bool:
        """Atomic check-and-set: False the first time a key is offered, True until it expires."""
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(self._run("SEEN", [self._k("seen:", key)], [uuid.uuid4().hex, ttl_ms]))

    # -- queues (the outbox, and the inbound queue under INBOUND_PREFIX) --------------------
    def _qkeys(self, qp: str) -> list[str]:
        """Due keys, leased keys, pending ids, dead ids of the queue with prefix `qp`."""
        return [qp + "o:due", qp + "o:lease", qp + "o:pending", qp + "o:dead"]

    def _claim(
        self,
        qp: str,
        now: float,
        limit: int,
        lease_seconds: float,
        owner: str,
        kinds: Collection[str] | None = None,
    ) -> list[OutboxItem]:
        wanted = "\n".join(sorted(kinds)) if kinds is not None else ""
        if kinds is not None and not wanted:
            return []
        rows = self._run(
            "OUTBOX_CLAIM",
            self._qkeys(qp)[:2],
            [qp, repr(float(now)), int(limit), repr(float(now + lease_seconds)), owner, wanted],
        )
        return [decode_item(row) for row in rows]

    def _remove(
        self,
        qp: str,
        item_id: int,
        error: str | None,
        client: Any = None,
        fence: str | None = None,
    ) -> Any:
        args: list[str | int] = [
            qp,
            int(item_id),
            "done" if error is None else "dead",
            error or "",
            fence or "",
        ]
        return self._scripts["OUTBOX_REMOVE"](keys=self._qkeys(qp), args=args, client=client)

    def _retry(
        self, qp: str, item_id: int, next_attempt_at: float, error: str, fence: str | None = None
    ) -> bool:
        return bool(
            self._run(
                "OUTBOX_RETRY",
                self._qkeys(qp)[:3],
                [qp, int(item_id), repr(float(next_attempt_at)), error, fence or ""],
            )
        )

    def _renew(self, qp: str, item_id: int, owner: str, lease_seconds: float) -> bool:
        keys = self._qkeys(qp)
        return bool(
            self._run(
                "OUTBOX_RENEW",
                [keys[1], keys[2]],
                [qp, int(item_id), owner, repr(time.time() + lease_seconds)],
            )
        )

    def _items(self, qp: str, ids: list[str]) -> list[OutboxItem]:
        pipe = self._r.pipeline(transaction=False)
        for item_id in ids:
            pipe.hgetall(qp + "o:i:" + item_id)
        return [decode_item(raw) for raw in pipe.execute() if raw]

    def _pending(self, qp: str, key: str | None) -> list[OutboxItem]:
        if key is not None:
            return self._items(qp, cast("list[str]", self._r.lrange(qp + "o:q:" + key, 0, -1)))
        return self._items(qp, cast("list[str]", self._r.zrange(qp + "o:pending", 0, -1)))

    # -- outbox -----------------------------------------------------------------------------
    def outbox_put(self, key: str, kind: str, payload: dict) -> int:
        """Append a call to the durable outbox, FIFO behind earlier items of the same key; inside
        `completing_inbound` the inbound item is removed in the same MULTI/EXEC."""
        keys = [self._k("o:seq"), self._k("o:pending"), self._k("o:due"), self._op_key()]
        args: list[str | int] = [
            self.prefix,
            key,
            kind,
            dumps(payload),
            repr(time.time()),
            self._op_ttl,
        ]
        completes = self._take_completing()
        if completes is None:
            return int(self._run("OUTBOX_PUT", keys, args))
        pipe = self._r.pipeline(transaction=True)
        self._scripts["OUTBOX_PUT"](keys=keys, args=args, client=pipe)
        self._inbound_done(completes.item_id, completes.owner, completes.lease_seconds, client=pipe)
        put, done = pipe.execute()
        self._done_result(done, completes)
        return int(put)

    def outbox_claim(
        self,
        now: float,
        limit: int,
        lease_seconds: float,
        owner: str,
        kinds: Collection[str] | None = None,
    ) -> list[OutboxItem]:
        """Lease up to `limit` due head items (one per key, not leased by another owner; with
        `kinds`, only heads of those kinds); each claim counts as an attempt."""
        return self._claim(self.prefix, now, limit, lease_seconds, owner, kinds)

    def outbox_done(self, item_id: int, owner: str | None = None) -> bool:
        """Remove a delivered item and let the next item of its key become the head; False if
        it is already gone or (with `owner`) leased to another owner."""
        return bool(self._remove(self.prefix, item_id, None, fence=owner))

    def outbox_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an item's lease and schedule it again, keeping it at the head of its key;
        False if it is gone or (with `owner`) leased to another owner."""
        return self._retry(self.prefix, item_id, next_attempt_at, error, owner)

    def outbox_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an item (kept and listed by `outbox_dead`) and unblock its key; False if
        it is gone or (with `owner`) leased to another owner."""
        return bool(self._remove(self.prefix, item_id, error, fence=owner))

    def outbox_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an item to `lease_seconds` from now; False if it lost it."""
        return self._renew(self.prefix, item_id, owner, lease_seconds)

    def outbox_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Pending items, of one key or all, in delivery order per key."""
        return self._pending(self.prefix, key)

    def outbox_dead(self) -> list[OutboxItem]:
        """Dead-lettered items, oldest first."""
        return self._items(self.prefix, cast("list[str]", self._r.zrange(self._k("o:dead"), 0, -1)))

    # -- inbound ----------------------------------------------------------------------------
    @property
    def _ip(self) -> str:
        return self.prefix + INBOUND_PREFIX

    def accept_inbound(
        self,
        dedupe_key: str,
        ttl_seconds: float,
        queue_key: str,
        kind: str,
        payload: dict,
        owner: str | None = None,
        lease_seconds: float = 60.0,
    ) -> OutboxItem | None:
        """Dedupe mark and durable enqueue in one Lua step; None for a duplicate."""
        qp, now = self._ip, time.time()
        row = self._run(
            "ACCEPT_INBOUND",
            [
                self._k("seen:", dedupe_key),
                qp + "o:seq",
                qp + "o:pending",
                qp + "o:due",
                qp + "o:lease",
            ],
            [
                qp,
                queue_key,
                kind,
                dumps(payload),
                repr(now),
                max(1, int(ttl_seconds * 1000)),
                owner or "",
                repr(now + lease_seconds),
                uuid.uuid4().hex,
            ],
        )
        return decode_item(row) if row else None

    def inbound_claim(
        self, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[OutboxItem]:
        """Lease up to `limit` due head items of the inbound queue (as `outbox_claim`)."""
        return self._claim(self._ip, now, limit, lease_seconds, owner)

    def _inbound_done(
        self, item_id: int, owner: str | None, lease_seconds: float, client: Any = None
    ) -> Any:
        qp = self._ip
        return self._scripts["INBOUND_DONE"](
            keys=self._qkeys(qp)[:3],
            args=[qp, int(item_id), owner or "", repr(time.time() + lease_seconds)],
            client=client,
        )

    @staticmethod
    def _done_result(result: list, completion: InboundCompletion) -> None:
        completion.removed = bool(int(result[0]))
        completion.next_item = decode_item(result[1]) if result[1] else None

    def inbound_done(
        self, item_id: int, owner: str | None = None, lease_seconds: float = 60.0
    ) -> OutboxItem | None:
        """Remove a handled inbound item (no-op if it is already gone); with an `owner`, the next
        item of its key is leased to it in the same step and returned."""
        completion = InboundCompletion(item_id, owner, lease_seconds)
        self._done_result(self._inbound_done(item_id, owner, lease_seconds), completion)
        return completion.next_item

    def inbound_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an inbound item's lease and schedule it again, still at the head of its key;
        False if it is gone or (with `owner`) leased to another owner."""
        return self._retry(self._ip, item_id, next_attempt_at, error, owner)

    def inbound_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an inbound item; False if it lost it."""
        return self._renew(self._ip, item_id, owner, lease_seconds)

    def inbound_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an inbound item (listed by `inbound_dead`) and unblock its key; False if
        it is gone or (with `owner`) leased to another owner."""
        return bool(self._remove(self._ip, item_id, error, fence=owner))

    def inbound_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Accepted, not yet handled inbound items, in handling order per key."""
        return self._pending(self._ip, key)

    def inbound_dead(self) -> list[OutboxItem]:
        """Dead-lettered inbound items, oldest first."""
        return self._items(self._ip, cast("list[str]", self._r.zrange(self._ip + "o:dead", 0, -1)))

    # -- outputs ----------------------------------------------------------------------------
    def append_output(self, key: SessionKey, output: dict) -> int:
        """Append an output to a session and return its sequence number (1, 2, …); inside
        `completing_inbound(item_id)` the inbound item is removed in the same MULTI/EXEC."""
        skey = key.as_str()
        body = {k: v for k, v in output.items() if k != "seq"}
        keys = [self._k("outseq:", skey), self._k("out:", skey)]
        args: list[str | int] = [dumps(body), OUTPUTS_KEPT, self._channel, skey, self._op_ttl]
        script_keys = [*keys, self._op_key()]
        completes = self._take_completing()
        if completes is None:
            seq = int(self._run("APPEND_OUTPUT", script_keys, args))
        else:
            pipe = self._r.pipeline(transaction=True)
            self._scripts["APPEND_OUTPUT"](keys=script_keys, args=args, client=pipe)
            self._inbound_done(
                completes.item_id, completes.owner, completes.lease_seconds, client=pipe
            )
            appended, done = pipe.execute()
            seq = int(appended)
            self._done_result(done, completes)
        ttl = self._ttl(self.session_ttl)
        if ttl is not None:
            pipe = self._r.pipeline(transaction=False)
            for k in keys:
                pipe.expire(k, ttl)
            pipe.execute()
        self._waiters.notify(skey)
        return seq

    def outputs_after(self, key: SessionKey, after: int, limit: int = 100) -> list[dict]:
        """Outputs with seq > `after`, oldest first, each with its "seq"."""
        members = cast(
            "list[str]",
            self._r.zrangebyscore(
                self._k("out:", key.as_str()), f"({int(after)}", "+inf", start=0, num=int(limit)
            ),
        )
        outputs = []
        for member in members:
            seq, _, body = member.partition("|")
            outputs.append({**json.loads(body), "seq": int(seq)})
        return outputs

    def latest_outputs(self, key: SessionKey, limit: int) -> Iterator[dict]:
        """The session's last `limit` outputs, newest first, each with its "seq" (read at once,
        each decoded only when the caller gets to it)."""
        members = (
            cast("list[str]", self._r.zrevrange(self._k("out:", key.as_str()), 0, int(limit) - 1))
            if limit > 0
            else []
        )
        for member in members:
            seq, _, body = member.partition("|")
            yield {**json.loads(body), "seq": int(seq)}

    def _start_background(self) -> None:
        """The pub/sub subscriber that wakes this process's waiters for other processes'
        appends."""
        with self._subscriber_lock:
            if self._subscriber is None:
                subscriber = _OutputSubscriber(self._r, self._channel, self._waiters.notify)
                subscriber.start()
                self._subscriber = subscriber

    def _stop_background(self) -> None:
        with self._subscriber_lock:
            subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.stop()

    # -- leader lock ------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew, if `owner` holds it) a named lock for `ttl_seconds`; False if another
        owner holds it."""
        return bool(
            self._run(
                "ACQUIRE_LOCK", [self._k("lock:", name)], [owner, max(1, int(ttl_seconds * 1000))]
            )
        )

    def release_lock(self, name: str, owner: str) -> None:
        """Release a named lock if `owner` holds it."""
        self._run("RELEASE_LOCK", [self._k("lock:", name)], [owner])

    # -- uploads ----------------------------------------------------------------------------
    def put_upload(
        self,
        upload_id: str,
        meta: dict,
        body: bytes,
        ttl_seconds: float,
        quota: UploadQuota | None = None,
    ) -> bool:
        """Keep an uploaded file for `ttl_seconds`, at most the session retention (a Redis TTL;
        base64 in a JSON value), counted in the session's upload index; with a `quota`, False
        and nothing stored when it would pass it (see `Store.put_upload`)."""
        if self.session_ttl is not None:
            ttl_seconds = min(ttl_seconds, self.session_ttl)
        quota = quota or UploadQuota()
        value = json.dumps({"meta": meta, "body": base64.b64encode(body).decode("ascii")})
        return bool(
            self._run(
                "PUT_UPLOAD",
                [self._k("upload:", upload_id), self._k("uploads:", str(meta["session"]))],
                [
                    value,
                    max(1, int(ttl_seconds * 1000)),
                    len(body),
                    -1 if quota.max_count is None else int(quota.max_count),
                    -1 if quota.max_bytes is None else int(quota.max_bytes),
                    upload_id,
                ],
            )
        )

    def upload_usage(self, key: SessionKey) -> UploadUsage:
        """How many unexpired uploads the session keeps and their total size in bytes."""
        count, total = self._run("UPLOAD_USAGE", [self._k("uploads:", key.as_str())], [])
        return UploadUsage(int(count), int(total))

    def get_upload(self, upload_id: str) -> tuple[dict, bytes] | None:
        """The metadata and bytes of an upload that has not expired, or None."""
        value = self._r.get(self._k("upload:", upload_id))
        if not value:
            return None
        found = json.loads(value)
        return found["meta"], base64.b64decode(found["body"])

    # -- health -----------------------------------------------------------------------------
    def keep_answer(self, key: str, answer: dict, ttl_seconds: float) -> None:
        """Keep the answer given to a request with an idempotency key for `ttl_seconds`."""
        self._r.set(self._k("answer:", key), dumps(answer), px=max(1, int(ttl_seconds * 1000)))

    def kept_answer(self, key: str) -> dict | None:
        """The answer kept under `key`, while it has not expired; else None."""
        raw = self._r.get(self._k("answer:", key))
        return None if raw is None else json.loads(raw)

    def ping(self) -> bool:
        """True when Redis answers PING."""
        try:
            return bool(self._r.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        """Stop the background threads (`stop()`) and close the connection pool."""
        self.stop()
        self._r.close()


class _OutputSubscriber:
    """Listens on the outputs channel and wakes this process's waiters of the named session.

    It holds its thread rather than being one: the class is defined when the module is imported,
    possibly before gevent patches `threading` in serve's worker, while the thread is made at
    start, after the patch (a greenlet there)."""

    def __init__(self, client: redis.Redis, channel: str, notify: Any) -> None:
        self._client, self._channel, self._notify = client, channel, notify
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.run, name="om-bridge-store-outputs", daemon=True
        )

    def start(self) -> None:
        """Start listening."""
        self._thread.start()

    def run(self) -> None:
        while not self._stopping.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message is not None:
                        self._notify(message["data"])
            except (redis.RedisError, OSError, ValueError) as exc:
                if not self._stopping.is_set():
                    log.warning(messages.REDIS_SUBSCRIBER_ERROR.format(error=type(exc).__name__))
                    self._stopping.wait(1.0)
            finally:
                pubsub.close()

    def stop(self) -> None:
        """Ask the thread to end and wait for it."""
        self._stopping.set()
        self._thread.join(timeout=5)
