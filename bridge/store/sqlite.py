"""The SQLite store: the embedded default (one file, WAL), also `:memory:` for tests."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any, overload

from om_bridge.bridge.coop import offload
from om_bridge.bridge.store import messages
from om_bridge.bridge.store.base import (
    OUTPUTS_KEPT,
    Store,
    check_end_status,
    check_update,
    ended_conflict,
    session_lock_name,
)
from om_bridge.bridge.store.errors import NotFound, StoreConflict, StoreError
from om_bridge.bridge.store.records import (
    Handover,
    InboundCompletion,
    OutboxItem,
    SessionKey,
    UploadQuota,
    UploadUsage,
)
from om_bridge.bridge.store.sqlite_db import SqliteDatabase

log = logging.getLogger(__name__)

_HANDOVER_COLUMNS = (
    "id, skey, url_token, user_id, session_id, provider_id, integration_id, "
    "customer_id, conversation_id, status, settings, agent, created_at, "
    "updated_at, ended_at, end_reason, pending_end_at, data"
)
_OUTBOX_COLUMNS = "id, key, kind, payload, attempts, next_attempt_at, last_error, created_at"
# Expired dedupe keys are swept once every this many new keys (up to twice as many at a time).
DEDUPE_SWEEP_EVERY = 64
# Free pages given back per incremental vacuum (4 MB with the default 4 KB pages): each is one
# write that holds the writer lock for a few milliseconds.
VACUUM_CHUNK_PAGES = 1024


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _handover_row(h: Handover) -> tuple:
    s = h.session
    return (
        h.id,
        s.as_str(),
        s.url_token,
        s.user_id,
        s.session_id,
        h.provider_id,
        h.integration_id,
        h.customer_id,
        h.conversation_id,
        h.status,
        _dumps(h.settings),
        None if h.agent is None else _dumps(h.agent),
        h.created_at,
        h.updated_at,
        h.ended_at,
        h.end_reason,
        h.pending_end_at,
        _dumps(h.data),
    )


@overload
def _handover(row: tuple) -> Handover: ...
@overload
def _handover(row: tuple | None) -> Handover | None: ...
def _handover(row: tuple | None) -> Handover | None:
    if row is None:
        return None
    (
        hid,
        _skey,
        token,
        user,
        session,
        provider,
        integration,
        customer,
        conversation,
        status,
        settings,
        agent,
        created,
        updated,
        ended,
        reason,
        pending,
        data,
    ) = row
    return Handover(
        id=hid,
        session=SessionKey(token, user, session),
        provider_id=provider,
        integration_id=integration,
        customer_id=customer,
        conversation_id=conversation,
        status=status,
        settings=json.loads(settings),
        agent=None if agent is None else json.loads(agent),
        created_at=created,
        updated_at=updated,
        ended_at=ended,
        end_reason=reason,
        pending_end_at=pending,
        data=json.loads(data),
    )


def _item(row: tuple) -> OutboxItem:
    iid, key, kind, payload, attempts, next_at, error, created = row
    return OutboxItem(
        id=iid,
        key=key,
        kind=kind,
        payload=json.loads(payload),
        attempts=attempts,
        next_attempt_at=next_at,
        last_error=error,
        created_at=created,
    )


class SqliteStore(Store):
    """Store backed by one SQLite database; `path` is a file path or ":memory:"."""

    # Waiters are woken by this process's appends directly; appends by other processes sharing
    # the file (`om-bridge listener`) are found by one shared poller (`_OutputPoller`, every
    # OUTPUT_POLL_SECONDS, run from `start()`), so thousands of idle streams do not each re-read
    # the store. The waiters' own re-read is then only a safety net; a store not started has no
    # poller and its waiters re-read as often as the poller would.
    cross_process_poll = 30.0

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.path = path
        self._clock = clock
        self._db = SqliteDatabase(path)
        self._marks = 0
        self._poller: _OutputPoller | None = None
        self._poller_lock = threading.Lock()

    # -- sessions ---------------------------------------------------------------------------
    def load_session(self, key: SessionKey) -> dict | None:
        """The saved state of a session, or None if it has none."""
        with self._db.read() as c:
            row = c.execute("SELECT state FROM sessions WHERE skey = ?", (key.as_str(),)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_session(self, key: SessionKey, state: dict) -> None:
        """Replace the saved state of a session."""
        with self._db.write() as c:
            c.execute(
                "INSERT INTO sessions (skey, state, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (skey) DO UPDATE SET state = excluded.state, "
                "updated_at = excluded.updated_at",
                (key.as_str(), _dumps(state), self._clock()),
            )

    def count_sessions_without_handover(self) -> int:
        """How many sessions the store keeps that have no open handover."""
        with self._db.read() as c:
            row = c.execute(
                "SELECT COUNT(*) FROM sessions WHERE skey NOT IN "
                "(SELECT skey FROM handovers WHERE ended_at IS NULL)"
            ).fetchone()
        return int(row[0])

    def append_session_line(self, key: SessionKey, line: dict, kept: int) -> None:
        """Append `line` to the state's `handover_lines` (see `Store.append_session_line`).

        While nobody holds the session lock, one statement in one write transaction: the
        transaction excludes every other writer, and a holder of the lock has its lock row
        stored for as long as it may have the state loaded, so no load-change-save can straddle
        it (no lock row written for this). Otherwise, or when the session has no saved state,
        the lock is waited for as `Store` does."""
        if kept > 0:
            skey = key.as_str()
            now = self._clock()
            with self._db.write() as c:
                done = c.execute(
                    "UPDATE sessions SET updated_at = :now, state = json_insert(CASE WHEN "
                    "json_array_length(state, '$.handover_lines') >= :kept THEN "
                    "json_remove(state, '$.handover_lines[0]') ELSE state END, "
                    "'$.handover_lines[#]', json(:line)) "
                    "WHERE skey = :skey AND json_type(state, '$.handover_lines') = 'array' "
                    "AND NOT EXISTS (SELECT 1 FROM locks WHERE name = :lock "
                    "AND expires_at > :now)",
                    {
                        "now": now,
                        "kept": kept,
                        "line": _dumps(line),
                        "skey": skey,
                        "lock": session_lock_name(skey),
                    },
                ).rowcount
            if done == 1:
                return
        super().append_session_line(key, line, kept)

    # -- handovers --------------------------------------------------------------------------
    def create_handover(self, h: Handover) -> Handover:
        """Store a new handover; StoreConflict if its session already has an open one."""
        now = self._clock()
        h = dataclasses.replace(h, created_at=h.created_at or now, updated_at=h.updated_at or now)
        with self._db.write() as c:
            row = c.execute(
                "SELECT id FROM handovers WHERE skey = ? AND ended_at IS NULL",
                (h.session.as_str(),),
            ).fetchone()
            if row is not None:
                raise StoreConflict(
                    messages.OPEN_HANDOVER_EXISTS.format(
                        session=h.session.as_str(), handover_id=row[0]
                    )
                )
            try:
                c.execute(
                    f"INSERT INTO handovers ({_HANDOVER_COLUMNS}) VALUES ({', '.join('?' * 18)})",
                    _handover_row(h),
                )
            except sqlite3.IntegrityError:
                raise StoreConflict(messages.HANDOVER_ID_EXISTS.format(handover_id=h.id)) from None
        return h

    def _one(self, where: str, args: tuple) -> Handover | None:
        with self._db.read() as c:
            return _handover(
                c.execute(
                    f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE {where} "
                    "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                    args,
                ).fetchone()
            )

    def get_handover(self, handover_id: str) -> Handover | None:
        """The handover with this id, open or ended, or None."""
        return self._one("id = ?", (handover_id,))

    def open_handover_for_session(self, key: SessionKey) -> Handover | None:
        """The session's open handover, or None."""
        return self._one("skey = ? AND ended_at IS NULL", (key.as_str(),))

    def handover_by_conversation(self, conversation_id: str) -> Handover | None:
        """The newest handover (open or ended) with this Genesys conversation id, or None."""
        return self._one("conversation_id = ?", (conversation_id,))

    def open_handovers_by_customer(
        self, integration_id: str | None, customer_id: str
    ) -> list[Handover]:
        """Every open handover of this customer id on this integration, oldest first."""
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE customer_id = ? "
                "AND integration_id IS ? AND ended_at IS NULL ORDER BY created_at, rowid",
                (customer_id, integration_id),
            ).fetchall()
        return [h for h in map(_handover, rows) if h is not None]

    def update_handover(self, handover_id: str, **fields: Any) -> Handover:
        """Change the `UPDATABLE_FIELDS` of a handover and return it; NotFound if absent."""
        check_update(fields)
        with self._db.write() as c:
            current = _handover(
                c.execute(
                    f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE id = ?", (handover_id,)
                ).fetchone()
            )
            if current is None:
                raise NotFound(messages.HANDOVER_NOT_FOUND.format(handover_id=handover_id))
            if "status" in fields and not current.is_open and fields["status"] != current.status:
                raise ended_conflict(handover_id)
            new = dataclasses.replace(current, updated_at=self._clock(), **fields)
            columns = [*fields, "updated_at"]
            row = dict(zip(_HANDOVER_COLUMNS.split(", "), _handover_row(new), strict=True))
            c.execute(
                f"UPDATE handovers SET {', '.join(f'{k} = ?' for k in columns)} WHERE id = ?",
                (*(row[k] for k in columns), handover_id),
            )
        return new

    def finish_handover(self, handover_id: str, status: str, reason: str) -> bool:
        """End a handover atomically: True for exactly one caller, False if it already ended
        (or does not exist)."""
        check_end_status(status)
        now = self._clock()
        with self._db.write() as c:
            cur = c.execute(
                "UPDATE handovers SET status = ?, end_reason = ?, ended_at = ?, "
                "updated_at = ?, pending_end_at = NULL "
                "WHERE id = ? AND ended_at IS NULL",
                (status, reason, now, now, handover_id),
            )
            return cur.rowcount == 1

    def open_handovers(self, provider_id: str | None = None) -> list[Handover]:
        """All open handovers, or those of one provider, oldest first."""
        where, args = ("provider_id = ? AND ", (provider_id,)) if provider_id else ("", ())
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE {where}"
                "ended_at IS NULL ORDER BY created_at, rowid",
                args,
            ).fetchall()
        return [_handover(r) for r in rows]

    # -- dedupe -----------------------------------------------------------------------------
    def _mark(self, c: sqlite3.Connection, key: str, ttl_seconds: float, now: float) -> bool:
        """Set a dedupe key inside a write transaction; False if it is set and not expired."""
        # One statement: insert, or take over an expired key; no change means a live duplicate.
        cur = c.execute(
            "INSERT INTO dedupe (key, expires_at) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at "
            "WHERE dedupe.expires_at <= ?",
            (key, now + ttl_seconds, now),
        )
        if cur.rowcount != 1:
            return False
        self._marks += 1
        if self._marks % DEDUPE_SWEEP_EVERY == 0:
            # Sweep expired keys now and then (an index range), so the table stays bounded.
            c.execute(
                "DELETE FROM dedupe WHERE key IN (SELECT key FROM dedupe "
                "WHERE expires_at <= ? LIMIT ?)",
                (now, DEDUPE_SWEEP_EVERY * 2),
            )
        return True

    def seen(self, key: str, ttl_seconds: float) -> bool:
        """Atomic check-and-set: False the first time a key is offered, True until it expires."""
        with self._db.write() as c:
            return not self._mark(c, key, ttl_seconds, self._clock())

    # -- queues (outbox and inbound share one shape) -----------------------------------------
    def _put(
        self,
        c: sqlite3.Connection,
        table: str,
        key: str,
        kind: str,
        payload: dict,
        now: float,
        owner: str | None = None,
        lease_seconds: float = 0.0,
    ) -> OutboxItem:
        # One statement (each one is a GIL round trip inside the writer lock): the item is the
        # head when its key has nothing pending, and the head of an idle key may be leased to
        # the caller right away (put + claim in one step), since it is the only item of its key.
        row = c.execute(
            f"INSERT INTO {table} (key, kind, payload, attempts, next_attempt_at, created_at, "
            "head, lease_owner, lease_until) "
            "SELECT :key, :kind, :payload, h * :leasing, :now, :now, h, "
            "CASE WHEN h = 1 AND :leasing = 1 THEN :owner END, "
            "CASE WHEN h = 1 AND :leasing = 1 THEN :until END "
            f"FROM (SELECT NOT EXISTS (SELECT 1 FROM {table} WHERE key = :key AND dead = 0) AS h) "
            "RETURNING id, attempts",
            {
                "key": key,
                "kind": kind,
                "payload": _dumps(payload),
                "now": now,
                "leasing": 0 if owner is None else 1,
                "owner": owner,
                "until": now + lease_seconds,
            },
        ).fetchone()
        return OutboxItem(
            id=int(row[0]),
            key=key,
            kind=kind,
            payload=payload,
            attempts=row[1],
            next_attempt_at=now,
            last_error=None,
            created_at=now,
        )

    def _claim(
        self,
        table: str,
        now: float,
        limit: int,
        lease_seconds: float,
        owner: str,
        kinds: Collection[str] | None = None,
    ) -> list[OutboxItem]:
        only = "" if kinds is None else f"AND kind IN ({', '.join('?' * len(kinds))}) "
        if kinds is not None and not kinds:
            return []
        with self._db.write() as c:
            rows = c.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM {table} WHERE head = 1 "
                "AND next_attempt_at <= ? AND (lease_owner IS NULL "
                f"OR lease_until <= ? OR lease_owner = ?) {only}"
                "ORDER BY next_attempt_at, id LIMIT ?",
                (now, now, owner, *(kinds or ()), limit),
            ).fetchall()
            items = [_item(r) for r in rows]
            if items:
                c.executemany(
                    f"UPDATE {table} SET lease_owner = ?, lease_until = ?, "
                    "attempts = attempts + 1 WHERE id = ?",
                    [(owner, now + lease_seconds, item.id) for item in items],
                )
            for item in items:
                item.attempts += 1
        return items

    def _remove(
        self,
        c: sqlite3.Connection,
        table: str,
        item_id: int,
        dead_error: str | None,
        owner: str | None = None,
        lease_seconds: float = 0.0,
        fence: str | None = None,
    ) -> tuple[bool, OutboxItem | None]:
        """Take an item off its queue (deleted, or dead-lettered with `dead_error`); the next
        item of its key becomes the head, leased to `owner` when one is given. With a `fence`,
        only while that owner holds its lease. Returns (removed, the next item if it was
        leased)."""
        if dead_error is None:
            row = c.execute(
                f"DELETE FROM {table} WHERE id = ? AND dead = 0 "
                "AND (?2 IS NULL OR lease_owner = ?2) RETURNING key, head",
                (item_id, fence),
            ).fetchone()
        else:
            row = c.execute(
                f"UPDATE {table} SET dead = 1, last_error = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ? AND dead = 0 "
                "AND (?3 IS NULL OR lease_owner = ?3) RETURNING key, head",
                (dead_error, item_id, fence),
            ).fetchone()
            if row is not None:
                c.execute(f"UPDATE {table} SET head = 0 WHERE id = ?", (item_id,))
        if row is None:
            return False, None  # already done or dead-lettered (e.g. after its lease ran out)
        if not row[1]:
            return True, None
        pick = f"WHERE id = (SELECT id FROM {table} WHERE key = ? AND dead = 0 ORDER BY id LIMIT 1)"
        if owner is None:
            c.execute(f"UPDATE {table} SET head = 1 {pick}", (row[0],))
            return True, None
        found = c.execute(
            f"UPDATE {table} SET head = 1, lease_owner = ?, lease_until = ?, "
            f"attempts = attempts + 1 {pick} RETURNING {_OUTBOX_COLUMNS}",
            (owner, self._clock() + lease_seconds, row[0]),
        ).fetchone()
        return True, None if found is None else _item(found)

    def _complete(self, c: sqlite3.Connection, completion: InboundCompletion) -> None:
        completion.removed, completion.next_item = self._remove(
            c, "inbound", completion.item_id, None, completion.owner, completion.lease_seconds
        )

    def _retry(
        self, table: str, item_id: int, next_attempt_at: float, error: str, fence: str | None
    ) -> bool:
        with self._db.write() as c:
            cur = c.execute(
                f"UPDATE {table} SET next_attempt_at = ?, last_error = ?, "
                "lease_owner = NULL, lease_until = NULL WHERE id = ? AND dead = 0 "
                "AND (?4 IS NULL OR lease_owner = ?4)",
                (next_attempt_at, error, item_id, fence),
            )
            return cur.rowcount == 1

    def _renew(self, table: str, item_id: int, owner: str, lease_seconds: float) -> bool:
        with self._db.write() as c:
            cur = c.execute(
                f"UPDATE {table} SET lease_until = ? WHERE id = ? AND dead = 0 AND lease_owner = ?",
                (self._clock() + lease_seconds, item_id, owner),
            )
            return cur.rowcount == 1

    def _pending(self, table: str, key: str | None) -> list[OutboxItem]:
        where, args = ("AND key = ? ", (key,)) if key is not None else ("", ())
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM {table} WHERE dead = 0 {where}ORDER BY id", args
            ).fetchall()
        return [_item(r) for r in rows]

    def _dead(self, table: str) -> list[OutboxItem]:
        with self._db.read() as c:
            rows = c.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM {table} WHERE dead = 1 ORDER BY id"
            ).fetchall()
        return [_item(r) for r in rows]

    # -- outbox -----------------------------------------------------------------------------
    def outbox_put(self, key: str, kind: str, payload: dict) -> int:
        """Append a call to the durable outbox, FIFO behind earlier items of the same key; inside
        `completing_inbound` the inbound item is removed in the same transaction."""
        completes = self._take_completing()
        with self._db.write() as c:
            item_id = self._put(c, "outbox", key, kind, payload, self._clock()).id
            if completes is not None:
                self._complete(c, completes)
            return item_id

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
        return self._claim("outbox", now, limit, lease_seconds, owner, kinds)

    def outbox_done(self, item_id: int, owner: str | None = None) -> bool:
        """Remove a delivered item and let the next item of its key become the head; False if
        it is already gone or (with `owner`) leased to another owner."""
        with self._db.write() as c:
            return self._remove(c, "outbox", item_id, None, fence=owner)[0]

    def outbox_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an item's lease and schedule it again, keeping it at the head of its key;
        False if it is gone or (with `owner`) leased to another owner."""
        return self._retry("outbox", item_id, next_attempt_at, error, owner)

    def outbox_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an item (kept and listed by `outbox_dead`) and unblock its key; False if
        it is gone or (with `owner`) leased to another owner."""
        with self._db.write() as c:
            return self._remove(c, "outbox", item_id, error, fence=owner)[0]

    def outbox_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an item to `lease_seconds` from now; False if it lost it."""
        return self._renew("outbox", item_id, owner, lease_seconds)

    def outbox_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Pending items, of one key or all, in delivery order per key."""
        return self._pending("outbox", key)

    def outbox_dead(self) -> list[OutboxItem]:
        """Dead-lettered items, oldest first."""
        return self._dead("outbox")

    # -- inbound ----------------------------------------------------------------------------
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
        """Dedupe mark and durable enqueue in one transaction; None for a duplicate."""
        now = self._clock()
        with self._db.write() as c:
            if not self._mark(c, dedupe_key, ttl_seconds, now):
                return None
            return self._put(c, "inbound", queue_key, kind, payload, now, owner, lease_seconds)

    def inbound_claim(
        self, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[OutboxItem]:
        """Lease up to `limit` due head items of the inbound queue (as `outbox_claim`)."""
        return self._claim("inbound", now, limit, lease_seconds, owner)

    def inbound_done(
        self, item_id: int, owner: str | None = None, lease_seconds: float = 60.0
    ) -> OutboxItem | None:
        """Remove a handled inbound item (no-op if it is already gone); with an `owner`, the next
        item of its key is leased to it in the same transaction and returned."""
        with self._db.write() as c:
            return self._remove(c, "inbound", item_id, None, owner, lease_seconds)[1]

    def inbound_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an inbound item's lease and schedule it again, still at the head of its key;
        False if it is gone or (with `owner`) leased to another owner."""
        return self._retry("inbound", item_id, next_attempt_at, error, owner)

    def inbound_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an inbound item; False if it lost it."""
        return self._renew("inbound", item_id, owner, lease_seconds)

    def inbound_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an inbound item (listed by `inbound_dead`) and unblock its key; False if
        it is gone or (with `owner`) leased to another owner."""
        with self._db.write() as c:
            return self._remove(c, "inbound", item_id, error, fence=owner)[0]

    def inbound_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Accepted, not yet handled inbound items, in handling order per key."""
        return self._pending("inbound", key)

    def inbound_dead(self) -> list[OutboxItem]:
        """Dead-lettered inbound items, oldest first."""
        return self._dead("inbound")

    # -- retention --------------------------------------------------------------------------
    def purge(self, now: float) -> dict[str, int]:
        """Delete what retention no longer keeps (see `Store.purge`)."""
        counts = {"sessions": 0, "outputs": 0, "handovers": 0, "dedupe": 0, "uploads": 0}
        with self._db.write() as c:
            if self.session_ttl is not None:
                idle = (
                    "SELECT skey FROM sessions WHERE updated_at < ?1 AND skey NOT IN "
                    "(SELECT skey FROM handovers WHERE ended_at IS NULL)"
                )
                cutoff = (now - self.session_ttl,)
                counts["outputs"] = c.execute(
                    f"DELETE FROM outputs WHERE skey IN ({idle})", cutoff
                ).rowcount
                counts["sessions"] = c.execute(
                    f"DELETE FROM sessions WHERE skey IN ({idle})", cutoff
                ).rowcount
            if self.ended_handover_ttl is not None:
                counts["handovers"] = c.execute(
                    "DELETE FROM handovers WHERE ended_at IS NOT NULL AND ended_at < ?",
                    (now - self.ended_handover_ttl,),
                ).rowcount
            counts["dedupe"] = c.execute(
                "DELETE FROM dedupe WHERE expires_at <= ?", (now,)
            ).rowcount
            # Kept idempotent answers are dedupe records of endpoint inputs.
            counts["dedupe"] += c.execute(
                "DELETE FROM answers WHERE expires_at <= ?", (now,)
            ).rowcount
            counts["uploads"] = c.execute(
                "DELETE FROM uploads WHERE expires_at <= ?", (now,)
            ).rowcount
        return counts

    def reclaim_space(self) -> int:
        """Give free pages back to the file system with incremental vacuums of up to
        VACUUM_CHUNK_PAGES each (a short write apiece, so other writers go on between them);
        the bytes given back. When it gave any back, a TRUNCATE checkpoint then shrinks the
        file and empties the WAL the moved pages passed through (else the next checkpoint
        shrinks the file, and the WAL keeps up to JOURNAL_SIZE_LIMIT_BYTES)."""
        if self._db.memory:
            return 0
        page, freed = self._db.page_size(), 0
        while True:
            given, left = self._db.incremental_vacuum(VACUUM_CHUNK_PAGES)
            freed += given
            if given == 0 or left == 0:
                break
        if freed:
            self._db.truncate_wal()
        return freed * page

    # -- outputs ----------------------------------------------------------------------------
    def append_output(self, key: SessionKey, output: dict) -> int:
        """Append an output to a session and return its sequence number (1, 2, …); inside
        `completing_inbound(item_id)` the inbound item is removed in the same transaction."""
        skey = key.as_str()
        completes = self._take_completing()
        body = _dumps({k: v for k, v in output.items() if k != "seq"})
        with self._db.write() as c:
            # The seq lives in its column (added back by `outputs_after`), so the next seq and
            # the insert are one statement.
            seq = c.execute(
                "INSERT INTO outputs (skey, seq, body) SELECT ?1, "
                "COALESCE(MAX(seq), 0) + 1, ?2 FROM outputs WHERE skey = ?1 "
                "RETURNING seq",
                (skey, body),
            ).fetchone()[0]
            if seq > OUTPUTS_KEPT:
                c.execute(
                    "DELETE FROM outputs WHERE skey = ? AND seq <= ?", (skey, seq - OUTPUTS_KEPT)
                )
            if completes is not None:
                self._complete(c, completes)
        self._waiters.notify(skey)
        return seq

    def _start_background(self) -> None:
        """The WAL checkpointer and, for a file, the output poller that wakes this process's
        waiters for other processes' appends (an in-memory database has one connection, this
        process only: every append wakes directly)."""
        self._db.start()
        if self._db.memory:
            return
        with self._poller_lock:
            if self._poller is None:
                poller = _OutputPoller(self.path, self._waiters, self._db.data_version)
                poller.start()
                self._poller = poller

    def _stop_background(self) -> None:
        with self._poller_lock:
            poller, self._poller = self._poller, None
        if poller is not None:
            poller.stop()
        self._db.stop()

    def outputs_after(self, key: SessionKey, after: int, limit: int = 100) -> list[dict]:
        """Outputs with seq > `after`, oldest first, each with its "seq"."""
        with self._db.read() as c:
            rows = c.execute(
                "SELECT seq, body FROM outputs WHERE skey = ? AND seq > ? ORDER BY seq LIMIT ?",
                (key.as_str(), after, limit),
            ).fetchall()
        return [{**json.loads(body), "seq": seq} for seq, body in rows]

    def latest_outputs(self, key: SessionKey, limit: int) -> Iterator[dict]:
        """The session's last `limit` outputs, newest first, each with its "seq" (read at once,
        each decoded only when the caller gets to it)."""
        with self._db.read() as c:
            rows = c.execute(
                "SELECT seq, body FROM outputs WHERE skey = ? ORDER BY seq DESC LIMIT ?",
                (key.as_str(), limit),
            ).fetchall()
        return ({**json.loads(body), "seq": seq} for seq, body in rows)

    # -- leader lock ------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew, if `owner` holds it) a named lock for `ttl_seconds`; False if another
        owner holds it."""
        now = self._clock()
        with self._db.write() as c:
            row = c.execute(
                "SELECT owner, expires_at FROM locks WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            c.execute(
                "INSERT OR REPLACE INTO locks (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, now + ttl_seconds),
            )
        return True

    def release_lock(self, name: str, owner: str) -> None:
        """Release a named lock if `owner` holds it."""
        with self._db.write() as c:
            c.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    # -- uploads ----------------------------------------------------------------------------
    def put_upload(
        self,
        upload_id: str,
        meta: dict,
        body: bytes,
        ttl_seconds: float,
        quota: UploadQuota | None = None,
    ) -> bool:
        """Keep an uploaded file for `ttl_seconds`, at most the session retention, counted
        against its session; with a `quota`, False and nothing stored when it would pass it
        (see `Store.put_upload`). Expired uploads are swept here and by `purge`."""
        now = self._clock()
        if self.session_ttl is not None:
            ttl_seconds = min(ttl_seconds, self.session_ttl)
        skey = str(meta["session"])
        with self._db.write() as c:
            c.execute("DELETE FROM uploads WHERE expires_at <= ?", (now,))
            if quota is not None and (quota.max_count is not None or quota.max_bytes is not None):
                count, total = c.execute(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads WHERE skey = ?", (skey,)
                ).fetchone()
                if (quota.max_count is not None and count + 1 > quota.max_count) or (
                    quota.max_bytes is not None and total + len(body) > quota.max_bytes
                ):
                    return False
            c.execute(
                "INSERT OR REPLACE INTO uploads (id, meta, body, expires_at, skey, size) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    upload_id,
                    _dumps(meta),
                    sqlite3.Binary(body),
                    now + ttl_seconds,
                    skey,
                    len(body),
                ),
            )
        return True

    def upload_usage(self, key: SessionKey) -> UploadUsage:
        """How many unexpired uploads the session keeps and their total size in bytes."""
        with self._db.read() as c:
            count, total = c.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads "
                "WHERE skey = ? AND expires_at > ?",
                (key.as_str(), self._clock()),
            ).fetchone()
        return UploadUsage(int(count), int(total))

    def get_upload(self, upload_id: str) -> tuple[dict, bytes] | None:
        """The metadata and bytes of an upload that has not expired, or None."""
        with self._db.read() as c:
            row = c.execute(
                "SELECT meta, body FROM uploads WHERE id = ? AND expires_at > ?",
                (upload_id, self._clock()),
            ).fetchone()
        return (json.loads(row[0]), bytes(row[1])) if row else None

    # -- idempotent requests ----------------------------------------------------------------
    def keep_answer(self, key: str, answer: dict, ttl_seconds: float) -> None:
        """Keep the answer given to a request with an idempotency key for `ttl_seconds`."""
        with self._db.write() as c:
            c.execute(
                "INSERT OR REPLACE INTO answers (key, answer, expires_at) VALUES (?, ?, ?)",
                (key, _dumps(answer), self._clock() + ttl_seconds),
            )

    def kept_answer(self, key: str) -> dict | None:
        """The answer kept under `key`, while it has not expired; else None."""
        with self._db.read() as c:
            row = c.execute(
                "SELECT answer FROM answers WHERE key = ? AND expires_at > ?",
                (key, self._clock()),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    # -- health -----------------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._db.read() as c:
                return c.execute("SELECT 1").fetchone()[0] == 1
        except Exception:
            return False

    def close(self) -> None:
        """Stop the background threads (`stop()`) and close every connection."""
        self.stop()
        self._db.close()


OUTPUT_POLL_SECONDS = 0.5


class _OutputPoller:
    """One thread per store that finds outputs appended by other processes and wakes this
    process's waiters of those sessions.

    Every OUTPUT_POLL_SECONDS it reads `PRAGMA data_version` of the connection this process
    writes with, which changes only when another process committed (this process's appends wake
    their waiters directly). Only then it reads the newest seq of every waited key, on an OS
    thread under gevent (`offload`), and wakes the keys whose newest seq changed; keys it sees
    for the first time are read and woken in any case (a waiter re-reads once: never a lost
    wake-up). A busy process whose only writer is itself so reads nothing."""

    def __init__(self, path: str, waiters: Any, version: Callable[[], int]) -> None:
        self._path, self._waiters, self._data_version = path, waiters, version
        self._stopping = threading.Event()
        self._seen: dict[str, int] = {}
        self._version: int | None = None
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="om-sqlite-outputs", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it."""
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.wait(OUTPUT_POLL_SECONDS):
            keys = self._waiters.keys()
            if not keys:
                self._seen.clear()
                continue
            try:
                version = self._data_version()
                changed = self._changed(keys, version)
            except (sqlite3.Error, StoreError) as exc:
                log.debug("output poller: %s", type(exc).__name__)
                continue
            for key in changed:
                self._waiters.notify(key)
        if self._conn is not None:
            self._conn.close()

    def _changed(self, keys: list[str], version: int) -> list[str]:
        """The waited keys to wake: all whose newest seq changed when another process wrote
        since the last round, else only the ones seen for the first time."""
        if version != self._version:
            scan = keys
        else:
            scan = [k for k in keys if k not in self._seen]
            if len(self._seen) > 2 * len(keys):  # forget keys nobody waits on any more
                waited = set(keys)
                self._seen = {k: v for k, v in self._seen.items() if k in waited}
        if not scan:
            return []
        newest = offload(lambda: self._newest(scan))
        self._version = version
        changed = [k for k in scan if self._seen.get(k, -1) != newest.get(k, 0)]
        for k in scan:
            self._seen[k] = newest.get(k, 0)
        return changed

    def _connection(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            conn = sqlite3.connect(
                self._path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
            self._conn = conn
        return conn

    def _newest(self, keys: list[str]) -> dict[str, int]:
        """The newest seq of each key that has outputs, one primary-key probe per key."""
        rows = (
            self._connection()
            .execute(
                "SELECT value, (SELECT MAX(seq) FROM outputs WHERE skey = value) FROM json_each(?)",
                (json.dumps(keys),),
            )
            .fetchall()
        )
        return {skey: seq for skey, seq in rows if seq is not None}
