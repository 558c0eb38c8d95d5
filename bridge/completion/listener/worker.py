"""The listener's two workers: the frame worker (frames from every socket → system actions for the
control thread, or completion events for the dispatcher) and the reconciler (REST checks of
watched conversations after a gap)."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from om_bridge import schemas
from om_bridge.bridge.genesys.errors import NotFoundError

from .. import events as ev
from .. import messages
from ..translate import from_conversation, from_detail
from .settings import ListenerSettings
from .socket import Event

log = logging.getLogger(__name__)

HEARTBEAT_TOPIC = "channel.metadata"
AGENTS_KEPT = 20_000  # the tracked conversations of one OAuth client (docs/design.md §11)


class FrameWorker:
    """Drains `queue` of `("frame", index, generation, text)` in its own thread."""

    def __init__(
        self,
        dispatch: Callable[[Any], Any],
        control: queue.Queue[Event],
        is_tracked: Callable[[str], bool],
        stop: threading.Event,
    ) -> None:
        self.queue: queue.Queue[Event] = queue.Queue()
        self._dispatch = dispatch
        self._control = control
        self._is_tracked = is_tracked
        self._stop = stop
        self._thread: threading.Thread | None = None
        self.handled = 0
        self._agents: OrderedDict[str, str] = OrderedDict()  # conversation -> last agent leg

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="notifications-frames")
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.handle(item[1], item[2], item[3])
            except Exception:  # one bad frame must not stop the worker
                log.exception("notifications frame handling failed")
            self.handled += 1

    def handle(self, index: int, generation: int, text: Any) -> None:
        """Classify one frame and act on it."""
        try:
            frame = json.loads(text)
        except (TypeError, ValueError):
            log.info(messages.LOG_BAD_FRAME, index, "not JSON")
            return
        if not schemas.validator("notification-frame").is_valid(frame):
            log.info(messages.LOG_BAD_FRAME, index, "not a notification frame")
            return
        topic, body = frame["topicName"], frame["eventBody"]
        if topic == HEARTBEAT_TOPIC:
            return  # heartbeat or pong: the socket already noted the arrival time
        if topic.startswith("v2.system."):
            self._system(index, generation, topic, body)
        elif topic.startswith("v2.detail.events.conversation."):
            event = from_detail(topic, body, ev.NOTIFICATIONS)
            if event is not None:
                self._dispatch(event)
        elif ".conversations" in topic:
            # Queue / user topics carry every conversation there: only watched ones matter.
            conversation_id = body.get("id")
            if isinstance(conversation_id, str) and self._is_tracked(conversation_id):
                event = from_conversation(body, ev.NOTIFICATIONS)
                if event is not None:
                    self._dispatch(event)
                else:
                    self._agent_legs(conversation_id, body)

    def _agent_legs(self, conversation_id: str, body: dict[str, Any]) -> None:
        """A participant change: a connected agent leg not seen before on this conversation (an
        answer, or a transfer that landed) is an agent-start event, so the bridge re-reads who
        serves it once instead of per message."""
        legs = sorted(
            str(p.get("id"))
            for p in body.get("participants") or []
            if isinstance(p, dict)
            and p.get("purpose") == "agent"
            and p.get("state") == "connected"
            and not p.get("endTime")
        )
        if not legs or self._agents.get(conversation_id) == legs[-1]:
            return
        self._agents[conversation_id] = legs[-1]
        self._agents.move_to_end(conversation_id)
        while len(self._agents) > AGENTS_KEPT:
            self._agents.popitem(last=False)
        self._dispatch(
            ev.CompletionEvent(
                kind=ev.AGENT_START,
                source=ev.NOTIFICATIONS,
                conversation_id=conversation_id,
                participant_id=legs[-1],
            )
        )

    def _system(self, index: int, generation: int, topic: str, body: dict[str, Any]) -> None:
        if topic.startswith("v2.system.socket_closing"):
            self._control.put(("socket_closing", index, generation))
        elif topic.startswith("v2.system.no_longer_subscribed"):
            data = body.get("data") or {}
            removed = [t for t in str(data.get("topics", "")).split(",") if t]
            self._control.put(("resync", index, removed or None))
        elif topic.startswith("v2.system.token_revoked"):
            self._control.put(("reconnect", index, generation, "token revoked"))


class Reconciler:
    """Checks conversations through `GET /api/v2/conversations/messages/{id}` in its own thread;
    a conversation whose customer has ended becomes a customer-end event."""

    def __init__(
        self,
        client: Any,
        dispatch: Callable[[Any], Any],
        settings: ListenerSettings,
        stop: threading.Event,
    ) -> None:
        self.client = client
        self._dispatch = dispatch
        self.settings = settings
        self._stop = stop
        self._queue: queue.Queue[tuple[str, int]] = queue.Queue()  # (id, attempt)
        self._pending: set[str] = set()
        self._unchecked: set[str] = set()  # gave up for now: Genesys kept failing
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.checked = 0

    def submit(self, conversation_ids: list[str]) -> None:
        """Queue conversations for a check (each at most once at a time)."""
        with self._lock:
            for cid in conversation_ids:
                if cid not in self._pending:
                    self._pending.add(cid)
                    self._queue.put((cid, 0))

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="notifications-reconcile"
        )
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                cid, attempt = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            done = self.check(cid, attempt)
            if done is None:
                # Out of retries: the end may have happened in the gap, so the conversation is
                # checked again later (`retry_unchecked`), never silently dropped.
                with self._lock:
                    self._pending.discard(cid)
                    self._unchecked.add(cid)
                continue
            if not done:
                self._stop.wait(self.settings.reconcile_retry_delay)
                self._queue.put((cid, attempt + 1))
                continue
            with self._lock:
                self._pending.discard(cid)

    def retry_unchecked(self, still_watched: Callable[[str], bool]) -> int:
        """Queue again the conversations whose check ran out of retries (and are still
        watched); how many. The listener calls this on its store-sync cadence."""
        with self._lock:
            again = [cid for cid in self._unchecked if still_watched(cid)]
            self._unchecked.clear()
        self.submit(again)
        return len(again)

    def check(self, conversation_id: str, attempt: int = 0) -> bool | None:
        """Check one conversation; False when it should be retried now, None when Genesys kept
        failing and it should be retried later."""
        try:
            conversation = self.client.get_message_conversation(conversation_id)
        except NotFoundError:
            return True
        except Exception as exc:
            log.warning(
                messages.LOG_LISTENER_ERROR, type(exc).__name__, self.settings.reconcile_retry_delay
            )
            return False if attempt + 1 < self.settings.reconcile_retries else None
        self.checked += 1
        event = from_conversation(conversation, ev.RECONCILE)
        if event is not None:
            self._dispatch(event)
        return True
