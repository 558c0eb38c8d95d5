"""Agent name and avatar for "Display Agent Details", looked up sparingly (300 calls/min budget).

The Open Messaging webhook names the integration, never the agent (docs/reference/genesys-open-messaging.md §5.3), so the agent
comes from the conversation's latest connected agent participant (`GET
/api/v2/conversations/messages/{id}`), or the message details' `createdBy`, and the user record
(`GET /api/v2/users/{id}`, cached per agent by the client). The result is kept on the handover
until an event says the agent changed (`agent_watch.AgentWatch`), so a transfer to another agent
shows the new name at once without costing a lookup per message (and at most once a minute as a
safety net where no event says so).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from om_bridge.bridge.genesys.clients import ClientRegistry
from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.bridge.handover import messages
from om_bridge.bridge.store import Handover, Store

log = logging.getLogger(__name__)
RECHECK_SECONDS = 60.0
# After a failed lookup the handover's agent is not looked up again for this long (the messages
# meanwhile show the last known agent, or none).
FAILURE_SECONDS = 60.0
FAILURES_KEPT = 10_000
# A lookup waits at most this long for another one of the same handover (the Genesys client's
# own timeouts end that one well before).
INFLIGHT_WAIT_SECONDS = 30.0


def latest_agent_id(conversation: dict[str, Any]) -> str | None:
    """The user id of the most recently connected agent participant still connected."""
    best: tuple[str, str] | None = None
    for p in conversation.get("participants") or []:
        if p.get("purpose") != "agent" or p.get("state") != "connected":
            continue
        user_id = (p.get("user") or {}).get("id") or p.get("userId")
        if not user_id:
            continue
        stamp = str(p.get("connectedTime") or p.get("startTime") or "")
        if best is None or stamp >= best[0]:
            best = (stamp, user_id)
    return best[1] if best else None


def avatar_of(user: dict[str, Any]) -> str | None:
    """The largest image of a Genesys user (`images[].resolution` like `x96` or `640x480`)."""

    def size(image: dict[str, Any]) -> int:
        numbers = [int(n) for n in re.findall(r"\d+", str(image.get("resolution") or ""))]
        return max(numbers) if numbers else 0

    images = [i for i in user.get("images") or [] if isinstance(i, dict) and i.get("imageUri")]
    return max(images, key=size)["imageUri"] if images else None


class AgentDirectory:
    """Resolves and caches the agent of a handover; a failed lookup is remembered (per handover,
    for `failure_seconds`) so a failing Genesys API is not asked again on every agent message."""

    def __init__(
        self,
        store: Store,
        clients: ClientRegistry,
        clock: Callable[[], float],
        recheck_seconds: float = RECHECK_SECONDS,
        failure_seconds: float = FAILURE_SECONDS,
    ) -> None:
        self.store, self.clients, self.clock = store, clients, clock
        self.recheck_seconds = recheck_seconds
        self.failure_seconds = failure_seconds
        # handover id -> when its last lookup failed (bounded, oldest forgotten first)
        self._failed: OrderedDict[str, float] = OrderedDict()
        self._failed_lock = threading.Lock()
        # handover id -> (set when its lookup in progress ends, the thread doing it): one lookup
        # per handover at a time
        self._inflight: dict[str, tuple[threading.Event, int]] = {}

    @contextmanager
    def single_lookup(self, handover_id: str) -> Iterator[bool]:
        """True: this caller looks the handover's agent up (others wait for it; the same thread
        may enter again, e.g. the watch's status change naming the agent). False: another lookup
        of the handover was in progress and has ended (or the wait timed out); its result is on
        the handover, or its failure remembered."""
        me = threading.get_ident()
        with self._failed_lock:
            running = self._inflight.get(handover_id)
            if running is None:
                mine = threading.Event()
                self._inflight[handover_id] = (mine, me)
        if running is not None:
            if running[1] == me:
                yield True
                return
            running[0].wait(INFLIGHT_WAIT_SECONDS)
            yield False
            return
        try:
            yield True
        finally:
            with self._failed_lock:
                self._inflight.pop(handover_id, None)
            mine.set()

    def failed_recently(self, handover_id: str, now: float) -> bool:
        """Whether a lookup for this handover failed less than `failure_seconds` ago."""
        with self._failed_lock:
            failed_at = self._failed.get(handover_id)
            if failed_at is None:
                return False
            if now - failed_at < self.failure_seconds:
                return True
            del self._failed[handover_id]
            return False

    def remember_failure(self, handover_id: str, now: float) -> None:
        """Remember that a lookup for this handover failed now (bounded: oldest forgotten)."""
        with self._failed_lock:
            self._failed[handover_id] = now
            self._failed.move_to_end(handover_id)
            while len(self._failed) > FAILURES_KEPT:
                self._failed.popitem(last=False)

    @staticmethod
    def cached(handover: Handover) -> dict[str, Any] | None:
        """The last known `{name, avatar}` of the handover's agent, without any lookup."""
        agent = handover.agent or {}
        if not agent.get("name"):
            return None
        return {"name": agent.get("name"), "avatar": agent.get("avatar")}

    def details(
        self,
        handover: Handover,
        message_id: str | None = None,
        conversation_id: str | None = None,
    ) -> dict[str, Any] | None:
        """`{name, avatar}` of the agent who sent this message (looked up when stale)."""
        known = handover.agent or {}
        now = self.clock()
        # Kept until an event says the agent changed (`AgentWatch.changed` marks it stale), so a
        # transfer is shown under the new name at once; re-read at most every RECHECK_SECONDS
        # as a safety net where no such event arrives (e.g. notifications without queue topics).
        fresh = now - float(known.get("checked_at") or 0) < self.recheck_seconds
        if known.get("name") and not known.get("stale") and fresh:
            return self.cached(handover)
        if self.failed_recently(handover.id, now):
            return self.cached(handover)
        with self.single_lookup(handover.id) as mine:
            if not mine:  # the agent watch (or another message) just looked: use what it found
                return self.cached(self.store.get_handover(handover.id) or handover)
            client = self.clients.for_provider(handover.provider_id)
            try:
                agent_id = self._agent_id(client, handover, message_id, conversation_id)
                if not agent_id:
                    return self.cached(handover)
                user = client.get_user(agent_id)
            except GenesysError as err:
                log.warning(
                    messages.LOG_AGENT_LOOKUP_FAILED,
                    handover.id,
                    f"{type(err).__name__} {err.status}",
                )
                self.remember_failure(handover.id, now)
                return self.cached(handover)
        agent = {
            "id": agent_id,
            "name": user.get("name") or user.get("preferredName"),
            "avatar": avatar_of(user),
            "checked_at": now,
        }
        try:
            self.store.update_handover(handover.id, agent=agent)
        except Exception:
            log.debug("handover %s: agent not stored", handover.id)
        return {"name": agent["name"], "avatar": agent["avatar"]}

    @staticmethod
    def _agent_id(
        client: Any, handover: Handover, message_id: str | None, conversation_id: str | None
    ) -> str | None:
        conversation_id = handover.conversation_id or conversation_id
        if conversation_id:
            agent_id = latest_agent_id(client.get_message_conversation(conversation_id))
            if agent_id:
                return agent_id
        if message_id:
            details = client.request(
                "GET", f"/api/v2/conversations/messages/{quote(message_id, safe='')}/details"
            )
            created_by = (details or {}).get("createdBy") or {}
            return created_by.get("id")
        return None
