"""`AgentWatch`: learns who serves a handover from the events the bridge already receives.

An Open Messaging webhook names the integration, never the agent (docs/reference/
genesys-open-messaging.md §5.3), so the agent is read from the conversation's participants
(`GET /api/v2/conversations/messages/{id}`) only when something says it changed: a transfer's end
events (`user.end` TRANSFER, `acw`), a new agent leg (`user.start`), the agent's typing. That
read also makes the handover `active` as soon as an agent is connected, before any agent message.
No Genesys call is made per message (the agent is cached on the handover until marked stale).
"""

from __future__ import annotations

import heapq
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from om_bridge.bridge.background import ConditionWorker
from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.bridge.handover import messages
from om_bridge.bridge.handover.agents import avatar_of, latest_agent_id

if TYPE_CHECKING:
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)
# While an agent leg is only offered (alerting), look again this often, this many times.
POLL_SECONDS: Final = 1.0
MAX_POLLS: Final = 120
# Agent legs seen before the bridge knew their conversation (the event raced the first message's
# answer): remembered briefly, so learning the conversation id reads the participants at once.
EARLY_KEPT: Final = 1000
_OFFERED: Final = ("alerting", "offering", "contacting")


def offered_agent(conversation: dict[str, Any]) -> bool:
    """Whether an agent leg is offered but not yet answered."""
    return any(
        p.get("purpose") == "agent" and p.get("state") in _OFFERED and not p.get("endTime")
        for p in conversation.get("participants") or []
        if isinstance(p, dict)
    )


class AgentWatch(ConditionWorker):
    """A thread that re-reads a handover's participants when told its agent may have changed."""

    thread_name = "agent-watch"

    def __init__(
        self,
        engine: HandoverEngine,
        *,
        store: Store,
        clients: ClientRegistry,
        clock: Callable[[], float],
        poll_seconds: float = POLL_SECONDS,
        max_polls: int = MAX_POLLS,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.store, self.clients, self.clock = store, clients, clock
        self.poll_seconds = poll_seconds
        self.max_polls = max_polls
        self._heap: list[tuple[float, str]] = []
        self._polls: dict[str, int] = {}
        self._early: OrderedDict[str, None] = OrderedDict()

    def early(self, conversation_id: str) -> None:
        """An agent leg started on a conversation no handover knows yet: remember it."""
        with self._cond:
            self._early[conversation_id] = None
            while len(self._early) > EARLY_KEPT:
                self._early.popitem(last=False)

    def learned(self, handover_id: str, conversation_id: str) -> None:
        """A handover learned its conversation id: if an agent leg was already seen on it, read
        the participants now (else the next event does)."""
        with self._cond:
            seen = self._early.pop(conversation_id, False) is None
        if seen:
            self.changed(handover_id)

    def changed(self, handover_id: str) -> None:
        """The agent may have changed (transfer, new leg, typing): forget the cached agent so the
        next agent message carries the right name, and re-read the participants now."""
        handover = self.store.get_handover(handover_id)
        if handover is None or not handover.is_open:
            return
        if handover.agent and not handover.agent.get("stale"):
            try:
                self.store.update_handover(handover_id, agent={**handover.agent, "stale": True})
            except Exception:
                log.debug("handover %s: agent not marked stale", handover_id)
        self._schedule(handover_id, self.clock(), reset=True)

    def _schedule(self, handover_id: str, due: float, reset: bool = False) -> None:
        with self._cond:
            if reset:
                self._polls[handover_id] = 0
            heapq.heappush(self._heap, (due, handover_id))
            self._cond.notify()

    def check(self, handover_id: str) -> None:
        """One participants read: `active` when an agent is connected, its name and avatar
        stored; another read soon while an agent is only offered."""
        handover = self.store.get_handover(handover_id)
        if handover is None or not handover.is_open or not handover.conversation_id:
            self._polls.pop(handover_id, None)
            return
        known = handover.agent or {}
        if handover.status == "active" and (
            not handover.settings.get("display_agent_details")
            or (known.get("name") and not known.get("stale"))
        ):
            # Nothing left to learn (a read scheduled while the agent was only offered, done by
            # now): a change of agent marks the agent stale first, and that read goes ahead.
            self._polls.pop(handover_id, None)
            return
        # A lookup of this handover failed a moment ago (here or for an agent message): Genesys is
        # not asked again before the failure is old enough; a later event schedules a new read.
        directory = self.engine.agent_side.agents
        now = self.clock()
        if directory.failed_recently(handover_id, now):
            self._polls.pop(handover_id, None)
            return
        with directory.single_lookup(handover_id) as mine:
            if not mine:
                return  # an agent message's lookup just read it (and stored what it found)
            client = self.clients.for_provider(handover.provider_id)
            try:
                conversation = client.get_message_conversation(handover.conversation_id)
                agent_id = latest_agent_id(conversation)
                if agent_id is None:
                    polls = self._polls.get(handover_id, 0) + 1
                    self._polls[handover_id] = polls
                    if offered_agent(conversation) and polls < self.max_polls:
                        self._schedule(handover_id, self.clock() + self.poll_seconds)
                    else:
                        self._polls.pop(handover_id, None)
                    return
                self._polls.pop(handover_id, None)
                updated = self.engine.advance(handover_id, "active") or handover
                known = updated.agent or {}
                if not updated.settings.get("display_agent_details"):
                    return
                if known.get("id") == agent_id and not known.get("stale"):
                    return
                user = client.get_user(agent_id)
            except GenesysError as err:
                log.warning(
                    messages.LOG_AGENT_LOOKUP_FAILED,
                    handover_id,
                    f"{type(err).__name__} {err.status}",
                )
                directory.remember_failure(handover_id, now)
                return
            agent = {
                "id": agent_id,
                "name": user.get("name") or user.get("preferredName"),
                "avatar": avatar_of(user),
                "checked_at": self.clock(),
            }
            self.store.update_handover(handover_id, agent=agent)

    # -- thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and (
                    not self._heap or self._heap[0][0] > self.clock()
                ):
                    wait = 5.0 if not self._heap else self._heap[0][0] - self.clock()
                    self._cond.wait(timeout=max(0.01, min(wait, 5.0)))
                if self._stop.is_set():
                    return
                _due, handover_id = heapq.heappop(self._heap)
                # One read serves every earlier request for the same handover.
                self._heap = [(d, h) for d, h in self._heap if h != handover_id]
                heapq.heapify(self._heap)
            try:
                self.check(handover_id)
            except Exception:  # keep watching; one bad read must not stop the thread
                log.exception("agent watch of handover %s failed", handover_id)

    def pending(self) -> Any:
        """Handover ids waiting for a read (tests, metrics)."""
        with self._cond:
            return sorted({h for _d, h in self._heap})
