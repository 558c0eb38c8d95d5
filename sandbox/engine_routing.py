"""Queues and routing of the conversation engine: waiting lists, offers to idle on-queue agents
(capacity per agent), agent routing status, and the queue-position Bot messages."""

from __future__ import annotations

from typing import Any

from sandbox import messages
from sandbox.errors import EngineError
from sandbox.model import Conversation, Participant
from sandbox.state import now_iso

ROUTABLE = ("IDLE", "INTERACTING")


class Routing:
    """Mixin of `ConversationEngine` (uses its `store`, `config`, `waiting`, publishing helpers)."""

    store: Any
    config: Any
    waiting: dict[str, list[str]]
    last_position: dict[str, int]

    def _agent_load(self, user_id: str) -> int:
        n = 0
        for conv in self.store.conversations.values():
            if conv.ended:
                continue
            n += sum(1 for p in conv.participants
                     if p.purpose == "agent" and p.user_id == user_id and p.active)
        return n

    def _eligible_agent(self, queue_id: str, conv: Conversation) -> dict | None:
        declined = {p.user_id for p in conv.participants if p.purpose == "agent"
                    and p.disconnect_type == "client" and p.connected_time is None}
        candidates = [u for u in self.store.users.values()
                      if queue_id in u.get("queues", []) and u.get("routing_status") in ROUTABLE
                      and u["id"] not in declined
                      and self._agent_load(u["id"]) < self.config.agent_capacity]
        # longest idle first, like Genesys' default "most available" distribution
        candidates.sort(key=lambda u: (self._agent_load(u["id"]), u.get("status_time", "")))
        return candidates[0] if candidates else None

    def _waiting_conv(self, conv: Conversation) -> bool:
        return not conv.ended and any(p.active for p in conv.legs("acd")) and \
            not any(p.active for p in conv.legs("agent"))

    def _route(self, queue_id: str) -> None:
        """Offer waiting conversations of `queue_id` to eligible agents, then announce positions."""
        waiting = self.waiting.get(queue_id, [])
        for cid in list(waiting):
            conv = self.store.conversations.get(cid)
            if conv is None or not self._waiting_conv(conv):
                continue
            agent = self._eligible_agent(queue_id, conv)
            if agent is None:
                break
            self._offer(conv, agent, queue_id)
        self._announce_positions(queue_id)

    def route_all(self) -> None:
        """Re-run routing on every queue (after an agent's routing status changed)."""
        with self.store.lock:
            for qid in list(self.waiting):
                self._route(qid)

    def _offer(self, conv: Conversation, user: dict, queue_id: str | None) -> Participant:
        now = now_iso()
        queue = self.store.queues.get(queue_id or "", {})
        agent = Participant(purpose="agent", state="alerting", start_time=now,
                            initial_state="alerting", start_alerting_time=now,
                            name=user.get("name"), user_id=user["id"], user_name=user.get("name"),
                            queue_id=queue_id, queue_name=queue.get("name"), direction="inbound",
                            address=conv.customer_id)
        conv.participants.append(agent)
        self._set_status(user, "INTERACTING")
        self._start_event(conv, agent)
        self._publish_state(conv)
        return agent

    def _set_status(self, user: dict, status: str) -> None:
        if user.get("routing_status") != status:
            user["routing_status"] = status
            user["status_time"] = now_iso()

    def _release_agent(self, user_id: str | None) -> None:
        user = self.store.users.get(user_id or "")
        if user and user.get("routing_status") == "INTERACTING" and self._agent_load(user["id"]) == 0:
            self._set_status(user, "IDLE")

    def _announce_positions(self, queue_id: str) -> None:
        waiting = [cid for cid in self.waiting.get(queue_id, [])
                   if cid in self.store.conversations
                   and self._waiting_conv(self.store.conversations[cid])]
        self.waiting[queue_id] = waiting
        if not self.config.queue_position_messages:
            return
        for pos, cid in enumerate(waiting, start=1):
            conv = self.store.conversations[cid]
            if any(p.state == "alerting" for p in conv.legs("agent")):
                continue
            if self.last_position.get(cid) == pos:
                continue
            self.last_position[cid] = pos
            integ = self.store.integrations.get(conv.integration_id)
            acd = next(p for p in reversed(conv.participants) if p.purpose == "acd")
            if integ is not None:
                self.bot_message(integ, conv, acd,
                                 self.config.queue_position_text.format(position=pos))

    def set_routing_status(self, user_id: str, status: str) -> dict:
        """PUT routingstatus: `IDLE` puts the agent on queue (and triggers routing), `OFF_QUEUE` off."""
        allowed = ("IDLE", "OFF_QUEUE")
        if status not in allowed:
            raise EngineError(400, "bad.request", messages.STATUS_UNKNOWN.format(
                status=status, allowed=", ".join(allowed)))
        with self.store.lock:
            user = self.store.users[user_id]
            if status == "IDLE" and self._agent_load(user_id) > 0:
                status = "INTERACTING"
            self._set_status(user, status)
            self.route_all()
            return user

