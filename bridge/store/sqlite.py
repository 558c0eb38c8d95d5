"""The SQLite store: the embedded default (one file, WAL), also `:memory:` for tests."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from typing import Any, Callable

from bridge.store import messages
from bridge.store.base import OUTPUTS_KEPT, Store, check_end_status, check_update, ended_conflict
from bridge.store.errors import NotFound, StoreConflict
from bridge.store.records import Handover, OutboxItem, SessionKey
from bridge.store.sqlite_db import SqliteDatabase

_HANDOVER_COLUMNS = ("id, skey, url_token, user_id, session_id, provider_id, integration_id, "
                     "customer_id, conversation_id, status, settings, agent, created_at, "
                     "updated_at, ended_at, end_reason, pending_end_at, data")
_OUTBOX_COLUMNS = "id, key, kind, payload, attempts, next_attempt_at, last_error, created_at"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _handover_row(h: Handover) -> tuple:
    s = h.session
    return (h.id, s.as_str(), s.url_token, s.user_id, s.session_id, h.provider_id,
            h.integration_id, h.customer_id, h.conversation_id, h.status, _dumps(h.settings),
            None if h.agent is None else _dumps(h.agent), h.created_at, h.updated_at,
            h.ended_at, h.end_reason, h.pending_end_at, _dumps(h.data))


def _handover(row: tuple | None) -> Handover | None:
    if row is None:
        return None
    (hid, _skey, token, user, session, provider, integration, customer, conversation, status,
     settings, agent, created, updated, ended, reason, pending, data) = row
    return Handover(id=hid, session=SessionKey(token, user, session), provider_id=provider,
                    integration_id=integration, customer_id=customer,
                    conversation_id=conversation, status=status, settings=json.loads(settings),
                    agent=None if agent is None else json.loads(agent), created_at=created,
                    updated_at=updated, ended_at=ended, end_reason=reason,
                    pending_end_at=pending, data=json.loads(data))


def _item(row: tuple) -> OutboxItem:
    iid, key, kind, payload, attempts, next_at, error, created = row
    return OutboxItem(id=iid, key=key, kind=kind, payload=json.loads(payload), attempts=attempts,
                      next_attempt_at=next_at, last_error=error, created_at=created)


class SqliteStore(Store):
    """Store backed by one SQLite database; `path` is a file path or ":memory:"."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.path = path
        self._clock = clock
        self._db = SqliteDatabase(path)

    # -- sessions ---------------------------------------------------------------------------
    def load_session(self, key: SessionKey) -> dict | None:
        """The saved state of a session, or None if it has none."""
        with self._db.read() as c:
            row = c.execute("SELECT state FROM sessions WHERE skey = ?",
                            (key.as_str(),)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_session(self, key: SessionKey, state: dict) -> None:
        """Replace the saved state of a session."""
        with self._db.write() as c:
            c.execute("INSERT INTO sessions (skey, state, updated_at) VALUES (?, ?, ?) "
                      "ON CONFLICT (skey) DO UPDATE SET state = excluded.state, "
                      "updated_at = excluded.updated_at",
                      (key.as_str(), _dumps(state), self._clock()))

    # -- handovers --------------------------------------------------------------------------
    def create_handover(self, h: Handover) -> Handover:
        """Store a new handover; StoreConflict if its session already has an open one."""
        now = self._clock()
        h = dataclasses.replace(h, created_at=h.created_at or now, updated_at=h.updated_at or now)
        with self._db.write() as c:
            row = c.execute("SELECT id FROM handovers WHERE skey = ? AND ended_at IS NULL",
                            (h.session.as_str(),)).fetchone()
            if row is not None:
                raise StoreConflict(messages.OPEN_HANDOVER_EXISTS.format(
                    session=h.session.as_str(), handover_id=row[0]))
            try:
                c.execute(f"INSERT INTO handovers ({_HANDOVER_COLUMNS}) VALUES "
                          f"({', '.join('?' * 18)})", _handover_row(h))
            except sqlite3.IntegrityError:
                raise StoreConflict(messages.HANDOVER_ID_EXISTS.format(handover_id=h.id)) from None
        return h

    def _one(self, where: str, args: tuple) -> Handover | None:
        with self._db.read() as c:
            return _handover(c.execute(
                f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE {where} "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1", args).fetchone())

    def get_handover(self, handover_id: str) -> Handover | None:
        """The handover with this id, open or ended, or None."""
        return self._one("id = ?", (handover_id,))

    def open_handover_for_session(self, key: SessionKey) -> Handover | None:
        """The session's open handover, or None."""
        return self._one("skey = ? AND ended_at IS NULL", (key.as_str(),))

    def handover_by_conversation(self, conversation_id: str) -> Handover | None:
        """The newest handover (open or ended) with this Genesys conversation id, or None."""
        return self._one("conversation_id = ?", (conversation_id,))

    def handover_by_customer(self, integration_id: str, customer_id: str) -> Handover | None:
        """The newest open handover of this Open Messaging customer id, or None."""
        return self._one("customer_id = ? AND integration_id IS ? AND ended_at IS NULL",
                         (customer_id, integration_id))

    def update_handover(self, handover_id: str, **fields: Any) -> Handover:
        """Change the `UPDATABLE_FIELDS` of a handover and return it; NotFound if absent."""
        check_update(fields)
        with self._db.write() as c:
            current = _handover(c.execute(f"SELECT {_HANDOVER_COLUMNS} FROM handovers "
                                          "WHERE id = ?", (handover_id,)).fetchone())
            if current is None:
                raise NotFound(messages.HANDOVER_NOT_FOUND.format(handover_id=handover_id))
            if "status" in fields and not current.is_open and fields["status"] != current.status:
                raise ended_conflict(handover_id)
            new = dataclasses.replace(current, updated_at=self._clock(), **fields)
            columns = [*fields, "updated_at"]
            row = dict(zip(_HANDOVER_COLUMNS.split(", "), _handover_row(new)))
            c.execute(f"UPDATE handovers SET {', '.join(f'{k} = ?' for k in columns)} "
                      "WHERE id = ?", (*(row[k] for k in columns), handover_id))
        return new

    def finish_handover(self, handover_id: str, status: str, reason: str) -> bool:
        """End a handover atomically: True for exactly one caller, False if it already ended
        (or does not exist)."""
        check_end_status(status)
        now = self._clock()
        with self._db.write() as c:
            cur = c.execute("UPDATE handovers SET status = ?, end_reason = ?, ended_at = ?, "
                            "updated_at = ?, pending_end_at = NULL "
                            "WHERE id = ? AND ended_at IS NULL",
                            (status, reason, now, now, handover_id))
            return cur.rowcount == 1

    def open_handovers(self, provider_id: str | None = None) -> list[Handover]:
        """All open handovers, or those of one provider, oldest first."""
        where, args = ("provider_id = ? AND ", (provider_id,)) if provider_id else ("", ())
        with self._db.read() as c:
            rows = c.execute(f"SELECT {_HANDOVER_COLUMNS} FROM handovers WHERE {where}"
                             "ended_at IS NULL ORDER BY created_at, rowid", args).fetchall()
        return [_handover(r) for r in rows]

    # -- dedupe -----------------------------------------------------------------------------
    def seen(self, key: str, ttl_seconds: float) -> bool:
        """Atomic check-and-set: False the first time a key is offered, True until it expires."""
        now = self._clock()
        with self._db.write() as c:
            row = c.execute("SELECT expires_at FROM dedupe WHERE key = ?", (key,)).fetchone()
            if row is not None and row[0] > now:
                return True
            c.execute("INSERT OR REPLACE INTO dedupe (key, expires_at) VALUES (?, ?)",
                      (key, now + ttl_seconds))
            # Sweep a few expired keys per call (an index range), so the table stays bounded.
            c.execute("DELETE FROM dedupe WHERE key IN (SELECT key FROM dedupe "
                      "WHERE expires_at <= ? LIMIT 50)", (now,))
        return False

    # -- outbox -----------------------------------------------------------------------------
    def outbox_put(self, key: str, kind: str, payload: dict) -> int:
        """Append a call to the durable outbox, FIFO behind earlier items of the same key."""
        now = self._clock()
        with self._db.write() as c:
            busy = c.execute("SELECT 1 FROM outbox WHERE key = ? AND dead = 0 LIMIT 1",
                             (key,)).fetchone()
            cur = c.execute("INSERT INTO outbox (key, kind, payload, next_attempt_at, "
                            "created_at, head) VALUES (?, ?, ?, ?, ?, ?)",
                            (key, kind, _dumps(payload), now, now, 0 if busy else 1))
            return int(cur.lastrowid)

    def outbox_claim(self, now: float, limit: int, lease_seconds: float,
                     owner: str) -> list[OutboxItem]:
        """Lease up to `limit` due head items (one per key, not leased by another owner);
        each claim counts as an attempt."""
        with self._db.write() as c:
            rows = c.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE head = 1 "
                             "AND next_attempt_at <= ? AND (lease_owner IS NULL "
                             "OR lease_until <= ? OR lease_owner = ?) "
                             "ORDER BY next_attempt_at, id LIMIT ?",
                             (now, now, owner, limit)).fetchall()
            items = [_item(r) for r in rows]
            for item in items:
                item.attempts += 1
                c.execute("UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = ? "
                          "WHERE id = ?", (owner, now + lease_seconds, item.attempts, item.id))
        return items

    def _remove_from_queue(self, c: sqlite3.Connection, item_id: int, dead_error: str | None,
                           delete: bool) -> None:
        row = c.execute("SELECT key, head FROM outbox WHERE id = ? AND dead = 0",
                        (item_id,)).fetchone()
        if row is None:
            return  # already done or dead-lettered (e.g. by a worker whose lease ran out)
        if delete:
            c.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
        else:
            c.execute("UPDATE outbox SET dead = 1, head = 0, last_error = ?, lease_owner = NULL, "
                      "lease_until = NULL WHERE id = ?", (dead_error, item_id))
        if row[1]:
            c.execute("UPDATE outbox SET head = 1 WHERE id = (SELECT id FROM outbox "
                      "WHERE key = ? AND dead = 0 ORDER BY id LIMIT 1)", (row[0],))

    def outbox_done(self, item_id: int) -> None:
        """Remove a delivered item and let the next item of its key become the head (no-op if
        it is already gone)."""
        with self._db.write() as c:
            self._remove_from_queue(c, item_id, None, delete=True)

    def outbox_retry(self, item_id: int, next_attempt_at: float, error: str) -> None:
        """Release an item's lease and schedule it again, keeping it at the head of its key."""
        with self._db.write() as c:
            c.execute("UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_owner = NULL, "
                      "lease_until = NULL WHERE id = ? AND dead = 0",
                      (next_attempt_at, error, item_id))

    def outbox_fail(self, item_id: int, error: str) -> None:
        """Dead-letter an item (kept and listed by `outbox_dead`) and unblock its key."""
        with self._db.write() as c:
            self._remove_from_queue(c, item_id, error, delete=False)

    def outbox_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Pending items, of one key or all, in delivery order per key."""
        where, args = ("AND key = ? ", (key,)) if key is not None else ("", ())
        with self._db.read() as c:
            rows = c.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE dead = 0 {where}"
                             "ORDER BY id", args).fetchall()
        return [_item(r) for r in rows]

    def outbox_dead(self) -> list[OutboxItem]:
        """Dead-lettered items, oldest first."""
        with self._db.read() as c:
            rows = c.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE dead = 1 "
                             "ORDER BY id").fetchall()
        return [_item(r) for r in rows]

    # -- outputs ----------------------------------------------------------------------------
    def append_output(self, key: SessionKey, output: dict) -> int:
        """Append an output to a session and return its sequence number (1, 2, …)."""
        skey = key.as_str()
        with self._db.write() as c:
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outputs WHERE skey = ?",
                            (skey,)).fetchone()[0]
            c.execute("INSERT INTO outputs (skey, seq, body) VALUES (?, ?, ?)",
                      (skey, seq, _dumps({**output, "seq": seq})))
            c.execute("DELETE FROM outputs WHERE skey = ? AND seq <= ?",
                      (skey, seq - OUTPUTS_KEPT))
        self._waiters.notify(skey)
        return seq

    def outputs_after(self, key: SessionKey, after: int, limit: int = 100) -> list[dict]:
        """Outputs with seq > `after`, oldest first, each with its "seq"."""
        with self._db.read() as c:
            rows = c.execute("SELECT body FROM outputs WHERE skey = ? AND seq > ? "
                             "ORDER BY seq LIMIT ?", (key.as_str(), after, limit)).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- leader lock ------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew, if `owner` holds it) a named lock for `ttl_seconds`; False if another
        owner holds it."""
        now = self._clock()
        with self._db.write() as c:
            row = c.execute("SELECT owner, expires_at FROM locks WHERE name = ?",
                            (name,)).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            c.execute("INSERT OR REPLACE INTO locks (name, owner, expires_at) VALUES (?, ?, ?)",
                      (name, owner, now + ttl_seconds))
        return True

    def release_lock(self, name: str, owner: str) -> None:
        """Release a named lock if `owner` holds it."""
        with self._db.write() as c:
            c.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    # -- health -----------------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._db.read() as c:
                return c.execute("SELECT 1").fetchone()[0] == 1
        except Exception:  # noqa: BLE001 - health check: any failure means "not ready"
            return False

    def close(self) -> None:
        """Close every connection of this store."""
        self._db.close()
