"""SQLite plumbing for the store: versioned schema, WAL, a connection pool, transactions."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from om_bridge.bridge.coop import gevent_active, offload
from om_bridge.bridge.store import messages
from om_bridge.bridge.store.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
BUSY_TIMEOUT_SECONDS = 10.0
# SQLite's own busy wait under gevent (it blocks every greenlet while it sleeps).
COOPERATIVE_BUSY_SECONDS = 0.02
# WAL pages are copied back into the database by a background thread this often (from `start()`),
# instead of by whichever commit crosses SQLite's auto-checkpoint threshold (a 5-10 ms stall
# inside the write lock, every ~0.4 s under load). Past CHECKPOINT_FALLBACK_PAGES, commits
# checkpoint themselves again, so the WAL stays bounded even if the thread cannot keep up or
# was never started.
CHECKPOINT_INTERVAL_SECONDS = 1.0
CHECKPOINT_FALLBACK_PAGES = 10_000
# Once checkpointed, a WAL file larger than this is cut back to it (SQLite otherwise keeps it
# at its largest size: an incremental vacuum after a big purge would leave the space there).
JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024
# SQLite's auto_vacuum mode INCREMENTAL: pages freed by deletes stay in the file until
# `PRAGMA incremental_vacuum` gives them back (`SqliteDatabase.incremental_vacuum`).
AUTO_VACUUM_INCREMENTAL = 2

# Version 1. Every lookup on a hot path has an index; partial indexes keep the "open" ones small.
SCHEMA_V1 = """
CREATE TABLE sessions (
    skey TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE handovers (
    id TEXT PRIMARY KEY, skey TEXT NOT NULL, url_token TEXT NOT NULL, user_id TEXT NOT NULL,
    session_id TEXT NOT NULL, provider_id TEXT NOT NULL, integration_id TEXT,
    customer_id TEXT NOT NULL, conversation_id TEXT, status TEXT NOT NULL,
    settings TEXT NOT NULL, agent TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    ended_at REAL, end_reason TEXT, pending_end_at REAL, data TEXT NOT NULL);
CREATE UNIQUE INDEX handovers_open_session ON handovers(skey) WHERE ended_at IS NULL;
CREATE INDEX handovers_conversation ON handovers(conversation_id, created_at)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX handovers_open_customer ON handovers(customer_id, integration_id, created_at)
    WHERE ended_at IS NULL;
CREATE INDEX handovers_open_provider ON handovers(provider_id, created_at) WHERE ended_at IS NULL;
CREATE INDEX handovers_open ON handovers(created_at) WHERE ended_at IS NULL;
CREATE TABLE dedupe (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX dedupe_expiry ON dedupe(expires_at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
    last_error TEXT, created_at REAL NOT NULL, dead INTEGER NOT NULL DEFAULT 0,
    head INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until REAL);
CREATE INDEX outbox_key ON outbox(key, id) WHERE dead = 0;
CREATE INDEX outbox_heads ON outbox(next_attempt_at, id) WHERE head = 1;
CREATE INDEX outbox_dead ON outbox(id) WHERE dead = 1;
CREATE TABLE outputs (
    skey TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (skey, seq)) WITHOUT ROWID;
CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
"""
# Version 2: accepted Genesys webhooks wait in `inbound` (the outbox's shape: FIFO per key, one
# leased head per key, retries, dead letters) until the engine handled them.
SCHEMA_V2 = """
CREATE TABLE inbound (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
    last_error TEXT, created_at REAL NOT NULL, dead INTEGER NOT NULL DEFAULT 0,
    head INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until REAL);
CREATE INDEX inbound_key ON inbound(key, id) WHERE dead = 0;
CREATE INDEX inbound_heads ON inbound(next_attempt_at, id) WHERE head = 1;
CREATE INDEX inbound_dead ON inbound(id) WHERE dead = 1;
"""
# Version 3: files users upload for the agent, served to Genesys until they expire.
SCHEMA_V3 = """
CREATE TABLE uploads (
    id TEXT PRIMARY KEY, meta TEXT NOT NULL, body BLOB NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX uploads_expiry ON uploads(expires_at);
"""
# Version 4: each upload names its session and size in columns, so a session's uploads are
# counted (the per-session quota) from an index instead of parsing every row's metadata.
SCHEMA_V4 = """
ALTER TABLE uploads ADD COLUMN skey TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE uploads SET skey = COALESCE(json_extract(meta, '$.session'), ''), size = length(body);
CREATE INDEX uploads_session ON uploads(skey, expires_at);
"""
# Version 5: answers given to endpoint inputs with an Idempotency-Key, kept for a day.
SCHEMA_V5 = """
CREATE TABLE answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX answers_expiry ON answers(expires_at);
"""
MIGRATIONS = {
    1: SCHEMA_V1,
    2: SCHEMA_V2,
    3: SCHEMA_V3,
    4: SCHEMA_V4,
    5: SCHEMA_V5,
}  # version -> script taking the previous version to it


# How long close() waits for another thread's statement to give its connection back.
CLOSE_WAIT_SECONDS = 5.0
# Idle connections kept for reuse; more are opened while more threads use the database at once,
# and closed again when they come back to a full pool.
POOL_IDLE_MAX = 8


class SqliteDatabase:
    """Connections to one SQLite database: a pool for a file (WAL, busy timeout), a single
    lock-guarded one for `:memory:` (which exists only inside its connection).

    A connection is taken from the pool for one read or one transaction and given back, so the
    number of connections follows the number of statements running at once, not the number of
    threads or greenlets (under serve's gevent worker every request is a greenlet, and SQLite
    calls never yield: one or two connections serve them all).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.memory = path == ":memory:"
        self._registry_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []  # last in, first out
        self._open: set[sqlite3.Connection] = set()
        self._given_back = threading.Condition(self._registry_lock)
        self._memory_lock = threading.RLock()
        # Writers of this process queue here, in FIFO-ish order and without sleeping, instead of
        # in SQLite's busy handler (which retries with sleeps of up to 100 ms: the latency tail).
        # Other processes sharing the file still wait through busy_timeout.
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None  # guarded by _write_lock
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_stop = threading.Event()
        self._closing = threading.Event()
        if not self.memory:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
        self._migrate()

    def _new_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        # Under gevent SQLite's busy handler would sleep inside C, stopping every greenlet: it
        # gets a short bound, and `write` waits for another process's write lock cooperatively.
        busy = COOPERATIVE_BUSY_SECONDS if gevent_active() else BUSY_TIMEOUT_SECONDS
        conn.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
        if not self.memory:
            # WAL: readers never block the writer; NORMAL sync is durable across process crashes.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_FALLBACK_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        return conn

    def start(self) -> None:
        """Start the checkpoint thread (a file only; not after `close()`, not twice)."""
        with self._registry_lock:
            if self._checkpointer is not None or self.memory or self._closing.is_set():
                return
            self._checkpoint_stop.clear()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="om-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def stop(self) -> None:
        """Stop and join the checkpoint thread, if started; the database stays open."""
        self._checkpoint_stop.set()
        with self._registry_lock:
            thread, self._checkpointer = self._checkpointer, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _checkpoint_loop(self) -> None:
        # Its own connection: a PASSIVE checkpoint takes neither the write lock nor the Python
        # writer lock, so writers carry on while pages are copied and the file is synced.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            while not self._checkpoint_stop.wait(CHECKPOINT_INTERVAL_SECONDS):
                try:
                    # Page copies and fsync: on an OS thread under gevent, so greenlets go on.
                    offload(lambda: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
                except sqlite3.Error:
                    pass  # busy or closing: the next round (or a commit past the fallback) does it
        finally:
            conn.close()

    def connection(self) -> sqlite3.Connection:
        """The connection the next statement of this thread will use (the pool's most recently
        returned one; the shared one for `:memory:`)."""
        with self._registry_lock:
            if self._idle:
                return self._idle[-1]
        conn = self._take()
        self._give_back(conn)
        return conn

    def _take(self) -> sqlite3.Connection:
        with self._registry_lock:
            if self._closing.is_set():
                raise StoreError(messages.SQLITE_CLOSED.format(path=self.path))
            if self._idle:
                return self._idle.pop()
            if self.memory and self._open:
                return next(iter(self._open))  # guarded by _memory_lock in read()/write()
        conn = self._new_connection()
        with self._registry_lock:
            self._open.add(conn)
        return conn

    def _give_back(self, conn: sqlite3.Connection) -> None:
        with self._registry_lock:
            keep = self.memory or (not self._closing.is_set() and len(self._idle) < POOL_IDLE_MAX)
            if keep and not self._closing.is_set():
                if conn not in self._idle:
                    self._idle.append(conn)
                return
        conn.close()
        with self._registry_lock:
            self._open.discard(conn)
            self._given_back.notify_all()

    @contextmanager
    def _use(self) -> Iterator[sqlite3.Connection]:
        conn = self._take()
        try:
            yield conn
        finally:
            self._give_back(conn)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (autocommit: each statement sees the latest commit)."""
        if self.memory:
            with self._memory_lock, self._use() as conn:
                yield conn
        else:
            with self._use() as conn:
                yield conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (BEGIN IMMEDIATE), so read-then-write is atomic
        across threads and processes; committed on success, rolled back on error. Every write
        of this process goes through one connection (writes are serialised anyway), so its
        `data_version` changes only when another process commits."""
        with self.write_lock(), self._writing() as conn:
            _begin_immediate(conn)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        if self.memory:
            with self._use() as conn:
                yield conn
            return
        if self._writer is None:  # the write lock is held: made once
            if self._closing.is_set():
                raise StoreError(messages.SQLITE_CLOSED.format(path=self.path))
            self._writer = self._new_connection()
        yield self._writer

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version` on this process's writing connection: it changes
        when another process (another connection) committed, never for this process's own
        writes."""
        with self.write_lock(), self._writing() as conn:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def write_lock(self) -> Any:
        """The lock every write of this process holds."""
        return self._memory_lock if self.memory else self._write_lock

    def _migrate(self) -> None:
        with self.write_lock(), self._writing() as conn:
            # Takes effect in a database without tables yet (a new file): it is then created in
            # incremental auto-vacuum mode. An older file needs the VACUUM below.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self._migrate_schema()
        if not self.memory:
            self._enable_incremental_vacuum()

    def _migrate_schema(self) -> None:
        with self.write() as conn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise StoreError(
                    messages.SQLITE_NEWER_SCHEMA.format(
                        path=self.path, found=found, known=SCHEMA_VERSION
                    )
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")

    def _enable_incremental_vacuum(self) -> None:
        """Turn a file made before incremental auto-vacuum into one: SQLite applies the mode to
        an existing database only by rebuilding it, so this runs VACUUM once (atomic: a crash
        leaves the old file intact). It needs about twice the file's size free (a temporary
        copy, then the WAL); with less, or when another process holds the database, it is left
        for a later start and the file keeps its size after purges until then."""
        with self.write_lock(), self._writing() as conn:
            if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL:
                return
            size = os.path.getsize(self.path)
            folders = {os.path.dirname(os.path.abspath(self.path)), _temp_folder()}
            free = min(shutil.disk_usage(folder).free for folder in folders)
            if free < 2 * size:
                log.warning(
                    messages.SQLITE_VACUUM_NO_ROOM.format(path=self.path, size=size, free=free)
                )
                return
            log.info(messages.SQLITE_VACUUM_START.format(path=self.path, size=size))
            started = time.monotonic()
            try:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
            except sqlite3.OperationalError as exc:
                log.warning(messages.SQLITE_VACUUM_FAILED.format(path=self.path, error=exc))
                return
            log.info(
                messages.SQLITE_VACUUM_DONE.format(
                    path=self.path,
                    size=os.path.getsize(self.path),
                    seconds=time.monotonic() - started,
                )
            )

    def auto_vacuum(self) -> int:
        """SQLite's `PRAGMA auto_vacuum` of the database (2: incremental)."""
        with self.read() as conn:
            return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])

    def incremental_vacuum(self, pages: int) -> tuple[int, int]:
        """Give up to `pages` free pages back to the file system (in incremental auto-vacuum
        mode; in another mode nothing happens), in one short write of its own; the pages given
        back and the free pages left. The file itself shrinks at the next checkpoint (WAL)."""
        with self.write_lock(), self._writing() as conn:
            before = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
            if before == 0:
                return 0, 0
            # executescript steps the pragma to its end (execute would free a single page).
            conn.executescript(f"PRAGMA incremental_vacuum({int(pages)})")
            after = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        return before - after, after

    def truncate_wal(self) -> bool:
        """Copy every WAL page into the database and cut the WAL file to nothing (a TRUNCATE
        checkpoint; the database file shrinks to its pages in use). Writers wait meanwhile; it
        gives up (False) when readers of older pages do not finish within the busy timeout."""
        if self.memory:
            return True
        with self.write_lock(), self._writing() as conn:
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError:
                return False
        return busy == 0

    def page_size(self) -> int:
        """The database's page size in bytes."""
        with self.read() as conn:
            return int(conn.execute("PRAGMA page_size").fetchone()[0])

    def close(self) -> None:
        """Stop the checkpoint thread and close every connection this database opened (one in
        use is closed when its statement gives it back)."""
        self._closing.set()
        self.stop()
        with self._registry_lock:
            idle = list(self._idle)
            self._idle.clear()
            for conn in idle:
                self._open.discard(conn)
            if self.memory:
                idle += list(self._open)
                self._open.clear()
        with self._memory_lock if self.memory else _nothing():
            for conn in idle:
                conn.close()
        if not self.memory:
            with self._write_lock:  # a write in progress finishes first
                writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
        # Wait for statements still running in other threads: their connections are closed as
        # they are given back (never under a running statement, which would crash sqlite3).
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        with self._registry_lock:
            while self._open and (remaining := deadline - time.monotonic()) > 0:
                self._given_back.wait(remaining)


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE; under gevent a write lock held by another process is waited for with
    cooperative sleeps (up to BUSY_TIMEOUT_SECONDS), not inside SQLite's busy handler."""
    if not gevent_active():
        conn.execute("BEGIN IMMEDIATE")
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.002
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)  # patched by gevent: other greenlets run meanwhile
        delay = min(delay * 2, 0.05)


def _temp_folder() -> str:
    """Where SQLite writes VACUUM's temporary copy (SQLITE_TMPDIR, TMPDIR, else /var/tmp,
    /usr/tmp, /tmp, as its unix VFS looks)."""
    for name in ("SQLITE_TMPDIR", "TMPDIR"):
        folder = os.environ.get(name)
        if folder and os.path.isdir(folder):
            return folder
    for folder in ("/var/tmp", "/usr/tmp", "/tmp"):
        if os.path.isdir(folder):
            return folder
    return "."


@contextmanager
def _nothing() -> Iterator[None]:
    yield
