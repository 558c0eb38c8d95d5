"""The store interface every backend implements, with the parts they share."""

from __future__ import annotations

import abc
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from om_bridge.bridge.store import messages
from om_bridge.bridge.store.errors import LockTimeout, StoreConflict
from om_bridge.bridge.store.local import KeyedLocks, Waiters
from om_bridge.bridge.store.records import (
    END_STATUSES,
    OPEN_STATUSES,
    UPDATABLE_FIELDS,
    Handover,
    InboundCompletion,
    OutboxItem,
    SessionKey,
    UploadQuota,
    UploadUsage,
)

# Outputs kept per session for long-poll / SSE catch-up; older ones are trimmed on append so an
# idle session's footprint stays bounded.
OUTPUTS_KEPT = 500
# A session lock outlives a killed holder by at most this long (another process may then take it);
# while held it is renewed every third of it, so a long hold never loses it.
SESSION_LOCK_TTL = 10.0


def session_lock_name(skey: str) -> str:
    """The leader-lock name `session_lock` takes for a session (its key's string form)."""
    return "session:" + skey


class Store(abc.ABC):
    """Sessions, handovers, dedupe keys, the Genesys outbox, outputs and leader locks.

    Every method is safe to call from many threads and, for the SQLite file and Redis backends,
    from many processes sharing the same database.
    """

    # How often `wait_outputs` re-reads the store while waiting, to see appends made by other
    # processes that could not wake this one directly.
    cross_process_poll: float = 0.5
    # The same for a store not started (`start()`): no thread wakes waiters for other processes.
    unstarted_poll: float = 0.5
    # Retention (`set_retention`): seconds an idle session (with its outputs) and an ended
    # handover are kept; None keeps them forever.
    session_ttl: float | None = None
    ended_handover_ttl: float | None = None

    def __init__(self) -> None:
        self._waiters = Waiters()
        self._local_locks = KeyedLocks()
        self._completing = threading.local()
        self._held_locks: dict[str, str] = {}  # session lock name -> owner, renewed while held
        self._held_guard = threading.Lock()
        self._lock_taken = threading.Condition(self._held_guard)  # none held -> one held
        self._renewer: threading.Thread | None = None
        self._renewer_stop = threading.Event()
        self._background_guard = threading.Lock()
        self._background = False  # start() ran and stop() has not

    # -- background threads -------------------------------------------------------------------
    def start(self) -> None:
        """Start the store's background threads: the session-lock renewer (a session lock held
        longer than SESSION_LOCK_TTL stays held) and the backend's own (`_start_background`).

        The composition root's `Workers` calls this and `stop()`; no other method of the store
        starts a thread. A store not started works the same within one process; it re-reads for
        other processes' outputs on its own (`output_reread_seconds`) and a session lock it holds
        lapses after SESSION_LOCK_TTL. Calling it again while started does nothing.
        """
        with self._background_guard:
            if self._background:
                return
            self._renewer_stop.clear()
            self._renewer = threading.Thread(
                target=self._renew_locks, name="om-store-lock-renew", daemon=True
            )
            self._renewer.start()
            try:
                self._start_background()
            except Exception:
                self._stop_renewer()
                raise
            self._background = True

    def stop(self) -> None:
        """Stop and join the threads `start()` started; the store stays usable. Safe to call
        when not started, and again."""
        with self._background_guard:
            self._background = False
            try:
                self._stop_background()
            finally:
                self._stop_renewer()

    @property
    def started(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._background

    @abc.abstractmethod
    def _start_background(self) -> None:
        """Start the backend's background threads (cross-process output wake-ups, ...)."""

    @abc.abstractmethod
    def _stop_background(self) -> None:
        """Stop and join what `_start_background` started."""

    def _stop_renewer(self) -> None:
        self._renewer_stop.set()
        with self._held_guard:
            self._lock_taken.notify_all()
        renewer, self._renewer = self._renewer, None
        if renewer is not None and renewer is not threading.current_thread():
            renewer.join(5)

    def output_reread_seconds(self) -> float:
        """How often `wait_outputs` re-reads the store while waiting, to see appends made by
        other processes: `cross_process_poll` while started (a backend thread wakes waiters),
        else the backend's `unstarted_poll`."""
        return self.cross_process_poll if self._background else self.unstarted_poll

    # -- sessions ---------------------------------------------------------------------------
    @abc.abstractmethod
    def load_session(self, key: SessionKey) -> dict | None:
        """The saved state of a session, or None if it has none."""

    @abc.abstractmethod
    def save_session(self, key: SessionKey, state: dict) -> None:
        """Replace the saved state of a session."""

    def append_session_line(self, key: SessionKey, line: dict, kept: int) -> None:
        """Append `line` to the saved state's `handover_lines` (keeping the last `kept`) as one
        step under the session lock, so it never overwrites, nor is overwritten by, a
        load-change-save of the state under that lock. A session without saved state gets one
        holding only the line."""
        with self.session_lock(key):
            state = self.load_session(key) or {}
            lines = [*(state.get("handover_lines") or []), line]
            state["handover_lines"] = lines[-kept:] if kept > 0 else []
            self.save_session(key, state)

    @abc.abstractmethod
    def count_sessions_without_handover(self) -> int:
        """How many sessions the store keeps that have no open handover (what the new-session
        cap of the endpoint counts)."""

    def session_lock(self, key: SessionKey, timeout: float = 10.0) -> AbstractContextManager[None]:
        """Serialise work on one session across threads and processes; raises LockTimeout."""
        return self._session_lock(key, timeout)

    @contextmanager
    def _session_lock(self, key: SessionKey, timeout: float) -> Iterator[None]:
        skey = key.as_str()
        deadline = time.monotonic() + timeout
        # Threads of this process queue on a local lock first, so only one of them at a time
        # polls the shared lock that excludes other processes.
        if not self._local_locks.acquire(skey, timeout):
            raise LockTimeout(messages.SESSION_LOCK_TIMEOUT.format(timeout=timeout, session=skey))
        try:
            name, owner = session_lock_name(skey), uuid.uuid4().hex
            delay = 0.005
            while not self.acquire_lock(name, owner, SESSION_LOCK_TTL):
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        messages.SESSION_LOCK_TIMEOUT.format(timeout=timeout, session=skey)
                    )
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
                delay = min(delay * 2, 0.1) * random.uniform(0.8, 1.2)
            self._keep_lock(name, owner)
            try:
                yield
            finally:
                self._drop_lock(name)
                self.release_lock(name, owner)
        finally:
            self._local_locks.release(skey)

    def _keep_lock(self, name: str, owner: str) -> None:
        with self._held_guard:
            if not self._held_locks:
                self._lock_taken.notify_all()
            self._held_locks[name] = owner

    def _drop_lock(self, name: str) -> None:
        with self._held_guard:
            self._held_locks.pop(name, None)

    def _renew_locks(self) -> None:
        while True:
            # Idle while no session lock is held; then every third of the lock's lifetime.
            with self._held_guard:
                while not self._held_locks and not self._renewer_stop.is_set():
                    self._lock_taken.wait()
            if self._renewer_stop.wait(SESSION_LOCK_TTL / 3.0):
                return
            with self._held_guard:
                held = list(self._held_locks.items())
            for name, owner in held:
                # Under the guard: a lock released meanwhile is never taken again here.
                with self._held_guard:
                    if self._held_locks.get(name) != owner:
                        continue
                    try:
                        self.acquire_lock(name, owner, SESSION_LOCK_TTL)
                    except Exception:  # the store is closing or briefly away: next round
                        continue

    # -- handovers --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_handover(self, h: Handover) -> Handover:
        """Store a new handover; StoreConflict if its session already has an open one."""

    @abc.abstractmethod
    def get_handover(self, handover_id: str) -> Handover | None:
        """The handover with this id, open or ended, or None."""

    @abc.abstractmethod
    def open_handover_for_session(self, key: SessionKey) -> Handover | None:
        """The session's open handover, or None."""

    @abc.abstractmethod
    def handover_by_conversation(self, conversation_id: str) -> Handover | None:
        """The newest handover (open or ended) with this Genesys conversation id, or None."""

    def handover_by_customer(
        self, integration_id: str | None, customer_id: str, conversation_id: str | None = None
    ) -> Handover | None:
        """The open handover of this Open Messaging customer id on this integration, or None.

        Exact, never a guess: a customer id is per handover (docs/design.md §6), so one open
        handover has it. Handovers stored before that used the Cognigy user id, which several
        sessions may share: then only the one in `conversation_id` is returned, and None when the
        conversation does not single one out."""
        return pick_exact(
            self.open_handovers_by_customer(integration_id, customer_id), conversation_id
        )

    @abc.abstractmethod
    def open_handovers_by_customer(
        self, integration_id: str | None, customer_id: str
    ) -> list[Handover]:
        """Every open handover of this customer id on this integration (None: on no integration
        yet), oldest first."""

    @abc.abstractmethod
    def update_handover(self, handover_id: str, **fields: Any) -> Handover:
        """Change the `UPDATABLE_FIELDS` of a handover and return it; NotFound if absent."""

    @abc.abstractmethod
    def finish_handover(self, handover_id: str, status: str, reason: str) -> bool:
        """End a handover atomically: True for exactly one caller, False if it already ended
        (or does not exist)."""

    @abc.abstractmethod
    def open_handovers(self, provider_id: str | None = None) -> list[Handover]:
        """All open handovers, or those of one provider, oldest first."""

    # -- dedupe -----------------------------------------------------------------------------
    @abc.abstractmethod
    def seen(self, key: str, ttl_seconds: float) -> bool:
        """Atomic check-and-set: False the first time a key is offered, True until it expires."""

    # -- outbox -----------------------------------------------------------------------------
    @abc.abstractmethod
    def outbox_put(self, key: str, kind: str, payload: dict) -> int:
        """Append a call to the durable outbox, FIFO behind earlier items of the same key; inside
        `completing_inbound` (like `append_output`) the inbound item is removed in the same
        transaction, so a call made for a webhook is queued exactly once."""

    @abc.abstractmethod
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

    @abc.abstractmethod
    def outbox_done(self, item_id: int, owner: str | None = None) -> bool:
        """Remove a delivered item and let the next item of its key become the head; False if
        it is already gone or (with `owner`: fenced) no longer leased to that owner."""

    @abc.abstractmethod
    def outbox_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an item's lease and schedule it again, keeping it at the head of its key;
        False if it is gone or (with `owner`) no longer leased to that owner."""

    @abc.abstractmethod
    def outbox_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an item (kept and listed by `outbox_dead`) and unblock its key; False if
        it is gone or (with `owner`) no longer leased to that owner."""

    @abc.abstractmethod
    def outbox_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an item to `lease_seconds` from now; False when `owner`
        no longer holds it (it ran out and another owner claimed it, or the item is gone)."""

    @abc.abstractmethod
    def outbox_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Pending items, of one key or all, in delivery order per key."""

    @abc.abstractmethod
    def outbox_dead(self) -> list[OutboxItem]:
        """Dead-lettered items, oldest first."""

    # -- inbound (accepted Genesys webhooks waiting to be handled) ---------------------------
    # The same queue shape as the outbox (FIFO per key, only the head is leased, retries, dead
    # letters), kept apart from it so the outbox sender never claims an inbound item.
    @abc.abstractmethod
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
        """Atomically set the dedupe key and enqueue the payload behind earlier items of
        `queue_key`; None (and nothing stored) when the key is already set and not expired.

        With an `owner`, an item that is the head of its key is leased to that owner in the same
        step (its `attempts` is then 1), so the caller may handle it without a claim; otherwise
        `attempts` is 0 and a later `inbound_claim` hands it out.
        """

    @abc.abstractmethod
    def inbound_claim(
        self, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[OutboxItem]:
        """Lease up to `limit` due head items of the inbound queue (as `outbox_claim`)."""

    @abc.abstractmethod
    def inbound_done(
        self, item_id: int, owner: str | None = None, lease_seconds: float = 60.0
    ) -> OutboxItem | None:
        """Remove a handled inbound item (no-op if it is already gone); with an `owner`, the next
        item of its key is leased to that owner in the same step and returned (so a backlog of
        one customer drains without a claim per item), else None."""

    @abc.abstractmethod
    def inbound_retry(
        self, item_id: int, next_attempt_at: float, error: str, owner: str | None = None
    ) -> bool:
        """Release an inbound item's lease and schedule it again, still at the head of its key."""

    @abc.abstractmethod
    def inbound_renew(self, item_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease of an inbound item (as `outbox_renew`)."""

    @abc.abstractmethod
    def inbound_fail(self, item_id: int, error: str, owner: str | None = None) -> bool:
        """Dead-letter an inbound item (listed by `inbound_dead`) and unblock its key."""

    @abc.abstractmethod
    def inbound_pending(self, key: str | None = None) -> list[OutboxItem]:
        """Accepted, not yet handled inbound items, in handling order per key."""

    @abc.abstractmethod
    def inbound_dead(self) -> list[OutboxItem]:
        """Dead-lettered inbound items, oldest first."""

    @contextmanager
    def completing_inbound(self, completion: InboundCompletion | None) -> Iterator[None]:
        """The next `append_output` (or `outbox_put`) of this thread inside the block also removes inbound item
        `completion.item_id` (as `inbound_done`, filling in `completion`) in the same
        transaction: the output a webhook carries is stored exactly once, whether the process
        dies right before (the item is handled again) or right after (nothing is left to redo)."""
        previous = getattr(self._completing, "value", None)
        self._completing.value = completion
        try:
            yield
        finally:
            self._completing.value = previous

    def _take_completing(self) -> InboundCompletion | None:
        completion = getattr(self._completing, "value", None)
        if completion is not None:
            self._completing.value = None
        return completion

    # -- retention --------------------------------------------------------------------------
    def set_retention(
        self, session_seconds: float | None, ended_handover_seconds: float | None
    ) -> None:
        """How long idle sessions (with their outputs) and ended handovers are kept. Redis
        applies it as key TTLs on every write; SQLite through `purge`, run by the sweeper."""
        self.session_ttl, self.ended_handover_ttl = session_seconds, ended_handover_seconds

    def purge(self, now: float) -> dict[str, int]:
        """Delete what retention no longer keeps (sessions idle past `session_ttl` that have no
        open handover, with their outputs; handovers ended more than `ended_handover_ttl` ago;
        expired dedupe keys); the number of rows deleted per kind. Backends whose keys expire
        on their own delete nothing here."""
        return {}

    def reclaim_space(self) -> int:
        """Give the space of deleted records back to the file system (after `purge`); the bytes
        given back. Backends that free memory as keys go (Redis) give back nothing here."""
        return 0

    # -- outputs ----------------------------------------------------------------------------
    @abc.abstractmethod
    def append_output(self, key: SessionKey, output: dict) -> int:
        """Append an output to a session and return its sequence number (1, 2, …); inside
        `completing_inbound(item_id)` the inbound item is removed in the same transaction."""

    @abc.abstractmethod
    def outputs_after(self, key: SessionKey, after: int, limit: int = 100) -> list[dict]:
        """Outputs with seq > `after`, oldest first, each with its "seq"."""

    @abc.abstractmethod
    def latest_outputs(self, key: SessionKey, limit: int) -> Iterator[dict]:
        """The session's last `limit` outputs, newest first, each with its "seq" (read at once,
        each decoded only when the caller gets to it)."""

    def wait_outputs(
        self,
        key: SessionKey,
        after: int,
        timeout: float,
        cancelled: Callable[[], bool] | None = None,
    ) -> list[dict]:
        """Outputs after `after`, blocking until there is at least one or `timeout` passed; a
        waiter whose `cancelled()` turned true (its client went away) returns [] at its next
        wake-up (`wake_waiters`)."""
        deadline = time.monotonic() + timeout
        with self._waiters.watch(key.as_str()) as watch:
            woken = True
            while True:
                if cancelled is not None and cancelled():
                    return []
                remaining = deadline - time.monotonic()
                if not woken and remaining <= 0:
                    # Timed out with nothing new announced: no read. A caller that waits again
                    # (an SSE stream after its keep-alive, a client's next long-poll) reads at
                    # once, so an append no wake-up announced is found no later than before.
                    return []
                found = self.outputs_after(key, after)
                if found or remaining <= 0:
                    return found
                woken = watch.wait(min(remaining, self.output_reread_seconds()))

    def waiting_outputs(self) -> int:
        """This process's output waiters right now."""
        return self._waiters.count()

    def wake_waiters(self, key: SessionKey) -> None:
        """Wake this process's waiters of a session (they re-read, or notice a cancellation)."""
        self._waiters.notify(key.as_str())

    # -- uploads (files a user sends to the agent) -------------------------------------------
    @abc.abstractmethod
    def put_upload(
        self,
        upload_id: str,
        meta: dict,
        body: bytes,
        ttl_seconds: float,
        quota: UploadQuota | None = None,
    ) -> bool:
        """Keep an uploaded file (`meta`: name, mime, size, session) for `ttl_seconds`, or less:
        never longer than the session retention (`session_ttl`), and swept by `purge` (SQLite)
        or a key TTL (Redis) once expired. It counts against the session `meta["session"]`
        names (a `SessionKey.as_str()`); with a `quota`, the check and the write are one atomic
        step: False, and nothing stored, when the session's unexpired uploads together with this
        one would pass `quota.max_count` or `quota.max_bytes`; True when stored."""

    @abc.abstractmethod
    def upload_usage(self, key: SessionKey) -> UploadUsage:
        """How many unexpired uploads the session keeps and their total size in bytes (what
        `put_upload`'s quota counts)."""

    @abc.abstractmethod
    def get_upload(self, upload_id: str) -> tuple[dict, bytes] | None:
        """The metadata and bytes of an upload that has not expired, or None."""

    # -- idempotent requests ----------------------------------------------------------------
    @abc.abstractmethod
    def keep_answer(self, key: str, answer: dict, ttl_seconds: float) -> None:
        """Keep the answer given to a request with an idempotency key for `ttl_seconds`."""

    @abc.abstractmethod
    def kept_answer(self, key: str) -> dict | None:
        """The answer `keep_answer` kept under `key`, while it has not expired; else None."""

    # -- leader lock ------------------------------------------------------------------------
    @abc.abstractmethod
    def acquire_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew, if `owner` holds it) a named lock for `ttl_seconds`; False if another
        owner holds it."""

    @abc.abstractmethod
    def release_lock(self, name: str, owner: str) -> None:
        """Release a named lock if `owner` holds it."""

    # -- health -----------------------------------------------------------------------------
    @abc.abstractmethod
    def ping(self) -> bool:
        """True when the backend answers."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the background threads (`stop()`) and release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pick_exact(candidates: list[Handover], conversation_id: str | None) -> Handover | None:
    """The one handover `candidates` names: the only candidate, or the only one in
    `conversation_id`; None when that is ambiguous."""
    if len(candidates) == 1:
        return candidates[0]
    if not conversation_id:
        return None
    found = [h for h in candidates if h.conversation_id == conversation_id]
    return found[0] if len(found) == 1 else None


def check_update(fields: dict[str, Any]) -> None:
    """Reject fields `update_handover` may not set and statuses that are not open ones."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(
            messages.UNKNOWN_FIELDS.format(
                fields=", ".join(sorted(unknown)), allowed=", ".join(sorted(UPDATABLE_FIELDS))
            )
        )
    if "status" in fields and fields["status"] not in OPEN_STATUSES:
        raise ValueError(
            messages.NOT_AN_OPEN_STATUS.format(
                status=fields["status"], allowed=", ".join(sorted(OPEN_STATUSES))
            )
        )


def check_end_status(status: str) -> None:
    """Reject a status `finish_handover` cannot end with."""
    if status not in END_STATUSES:
        raise ValueError(
            messages.NOT_AN_END_STATUS.format(
                status=status, allowed=", ".join(sorted(END_STATUSES))
            )
        )


def ended_conflict(handover_id: str) -> StoreConflict:
    """The error for a status change on an ended handover."""
    return StoreConflict(messages.HANDOVER_ENDED.format(handover_id=handover_id))
