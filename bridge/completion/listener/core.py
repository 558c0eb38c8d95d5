"""The Notifications API listener for one OAuth client (completion = "notifications").

Threads: a control thread (leader lock, channels, subscriptions, sockets, heartbeat watchdog,
reconnects), one thread per WebSocket (frames only go on a queue), a frame worker that turns frames
into completion events for the dispatcher, and a reconcile worker that checks conversations
through REST after every (re)connect, because the socket has no delivery guarantee
(docs/reference/genesys-completion-detection.md §A.8, §A.9).

The set of conversations to watch comes from the store (open handovers of the listener's
providers), so a listener in another process (or `om-bridge listener`) sees every handover;
`track()` is only a fast path for handovers started in this process."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .. import messages
from ..events import CompletionEvent
from .channels import ChannelManager
from .settings import ListenerSettings
from .shards import TopicBudgetExceeded, TopicShards
from .socket import Event
from .worker import FrameWorker, Reconciler

log = logging.getLogger(__name__)


def customer_end_topic(conversation_id: str) -> str:
    """The per-conversation topic watched: one topic per conversation, so 20 channels x 1,000
    topics track 20,000 conversations (docs/design.md §11); customer.end does not fire on transfers."""
    return f"v2.detail.events.conversation.{conversation_id}.customer.end"


def queue_topic(queue_id: str) -> str:
    """The queue's message-conversation topic (snapshots of every conversation on the queue)."""
    return f"v2.routing.queues.{queue_id}.conversations.messages"


class NotificationsListener:
    """One listener per OAuth client; only the process holding the store lock
    `notifications:<client_id>` connects."""

    def __init__(
        self,
        client: Any,
        store: Any,
        dispatch: Callable[[CompletionEvent], Any],
        *,
        client_id: str,
        provider_ids: list[str],
        queue_ids: list[str] | None = None,
        settings: ListenerSettings | None = None,
        owner: str | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.client_id = client_id
        self.provider_ids = list(provider_ids)
        self.settings = settings or ListenerSettings()
        self.queue_topics = (
            [queue_topic(q) for q in (queue_ids or []) if q] if self.settings.watch_queues else []
        )
        self.owner = owner or f"{uuid.uuid4().hex}"
        self.lock_name = f"notifications:{client_id}"
        self.leader = False
        self._lock = threading.RLock()
        self._tracked: dict[str, float] = {}  # conversation id -> when tracked (monotonic)
        self._checked: dict[str, float] = {}  # conversation id -> last scheduled check
        self._shards = TopicShards(self.settings.max_topics, self.settings.max_channels)
        self._control: queue.Queue[Event] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reconciler = Reconciler(client, dispatch, self.settings, self._stop)
        self.frames = FrameWorker(dispatch, self._control, self.is_tracked, self._stop)
        self.channels = ChannelManager(
            client,
            self._shards,
            self._lock,
            self.settings,
            sink=self._from_socket,
            on_open=self._socket_opened,
        )

    # --- tracking (any thread) -------------------------------------------------------------
    def track(self, conversation_id: str) -> None:
        """Watch a conversation; raises `TopicBudgetExceeded` with a clear message when every
        channel the OAuth client may have is full."""
        with self._lock:
            if conversation_id in self._tracked:
                return
            try:
                self._shards.add(customer_end_topic(conversation_id))
            except TopicBudgetExceeded:
                raise TopicBudgetExceeded(
                    messages.TOPIC_BUDGET_EXCEEDED.format(
                        conversation=conversation_id,
                        client=self.client_id,
                        channels=self.settings.max_channels,
                        topics=self.settings.max_topics,
                    )
                ) from None
            self._tracked[conversation_id] = time.monotonic()
        self._control.put(("wake",))

    def untrack(self, conversation_id: str) -> None:
        """Stop watching a conversation (its topic leaves the channel on the next flush)."""
        with self._lock:
            self._checked.pop(conversation_id, None)
            if self._tracked.pop(conversation_id, None) is None:
                return
            self._shards.remove(customer_end_topic(conversation_id))
        self._control.put(("wake",))

    def is_tracked(self, conversation_id: str) -> bool:
        """Whether frames about this conversation matter."""
        return conversation_id in self._tracked

    def tracked(self) -> list[str]:
        """The conversations watched now."""
        with self._lock:
            return list(self._tracked)

    def sync_from_store(self) -> None:
        """Make the watched set equal the open handovers (with a conversation id) in the store."""
        wanted: set[str] = set()
        for provider_id in self.provider_ids:
            for handover in self.store.open_handovers(provider_id):
                if handover.conversation_id:
                    wanted.add(handover.conversation_id)
        fresh = time.monotonic() - 2 * self.settings.sync_interval
        for cid in wanted - set(self._tracked):
            try:
                self.track(cid)
            except TopicBudgetExceeded as exc:
                log.error("%s", exc)
                break
        for cid, since in list(self._tracked.items()):
            # A conversation tracked a moment ago may not be visible in the store yet.
            if cid not in wanted and since < fresh:
                self.untrack(cid)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the control, frame and reconcile threads."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.frames.start()
        self.reconciler.start()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"notifications-{self.client_id}"
        )
        self._thread.start()

    def stop(self) -> None:
        """Close the sockets, stop the threads and release the leader lock."""
        self._stop.set()
        self._control.put(("wake",))
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.channels.retire_all()
        self.frames.join()
        self.reconciler.join()
        if self.leader:
            try:
                self.store.release_lock(self.lock_name, self.owner)
            except Exception:  # the lock expires by itself
                log.debug("releasing %s failed", self.lock_name, exc_info=True)
            self.leader = False

    # --- socket callbacks (socket threads: queue only) ---------------------------------------
    def health(self) -> dict[str, Any]:
        """`{leader, channels, open, down_seconds}` for readiness and metrics: whether this
        process holds the listener lock, and how its sockets are."""
        channels, opened, down_since = self.channels.health()
        down = time.monotonic() - down_since if down_since is not None else 0.0
        return {
            "leader": self.leader,
            "channels": channels,
            "open": opened,
            "down_seconds": down if self.leader else 0.0,
        }

    def _from_socket(self, item: Event) -> None:
        (self.frames.queue if item[0] == "frame" else self._control).put(item)

    def _socket_opened(self, index: int) -> None:
        # After every (re)connect: check each watched conversation of that channel through REST.
        with self._lock:
            topics = (
                set(self._shards.shards[index].topics)
                if index < len(self._shards.shards)
                else set()
            )
            cids = [cid for cid in self._tracked if customer_end_topic(cid) in topics]
            if any(t in topics for t in self.queue_topics):
                cids = list(self._tracked)
        log.info(messages.LOG_RECONCILE, len(cids), index)
        self.reconciler.submit(cids)

    def reconcile_round(self, now: float | None = None) -> list[str]:
        """Queue the scheduled REST check of the tracked conversations checked longest ago (all
        of them when the budget covers them); returns those queued."""
        s = self.settings
        now = time.monotonic() if now is None else now
        budget = max(1, int(s.reconcile_per_minute * s.reconcile_interval / 60.0))
        with self._lock:
            due = sorted(self._tracked, key=lambda cid: self._checked.get(cid, 0.0))[:budget]
            for cid in due:
                self._checked[cid] = now
        if due:
            log.debug(messages.LOG_RECONCILE_SCHEDULED, len(due))
            self.reconciler.submit(due)
        return due

    def check_now(self, conversation_ids: list[str]) -> None:
        """Check these conversations through REST at once (the customer moved to another
        conversation: the old one may have ended with its frame lost)."""
        if self.leader:
            self.reconciler.submit([c for c in conversation_ids if c])

    # --- the control thread ----------------------------------------------------------------
    def _run(self) -> None:
        s = self.settings
        next_lock = next_sync = 0.0
        next_reconcile = time.monotonic() + s.reconcile_interval
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_lock:
                    self._leadership()
                    next_lock = now + s.lock_renew
                if self.leader:
                    if now >= next_sync:
                        self.sync_from_store()
                        self.reconciler.retry_unchecked(self.is_tracked)
                        next_sync = now + s.sync_interval
                    if now >= next_reconcile:
                        self.reconcile_round(now)
                        next_reconcile = now + s.reconcile_interval
                    self.channels.maintain(now)
            except Exception as exc:
                log.warning(messages.LOG_LISTENER_ERROR, type(exc).__name__, s.tick)
            try:
                item = self._control.get(timeout=s.tick)
            except queue.Empty:
                continue
            while True:
                if self.leader and item[0] != "wake":
                    self.channels.handle(item)
                try:
                    item = self._control.get_nowait()
                except queue.Empty:
                    break

    def _leadership(self) -> None:
        try:
            held = self.store.acquire_lock(self.lock_name, self.owner, self.settings.lock_ttl)
        except Exception:
            log.warning(messages.LOG_LISTENER_ERROR, "store", self.settings.lock_renew)
            return
        if held and not self.leader:
            self.leader = True
            log.info(messages.LOG_LISTENER_LEADER, self.client_id, self.owner)
            with self._lock:
                for topic in self.queue_topics:
                    self._shards.add(topic)
        elif not held and self.leader:
            log.warning(messages.LOG_LISTENER_LOST_LOCK, self.client_id)
            self.leader = False
            self.channels.retire_all()
        elif not held:
            log.debug(messages.LOG_LISTENER_FOLLOWER, self.client_id)
