"""Queues and routing of the conversation engine: waiting lists, offers to idle on-queue agents
(capacity per agent), agent routing status, and the queue-position Bot messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from om_bridge.sandbox import messages
from om_bridge.sandbox.errors import EngineError
from om_bridge.sandbox.model import Conversation, MessageRecord, Participant
from om_bridge.sandbox.state import now_iso

ROUTABLE = ("IDLE", "INTERACTING")


class Routing:
    """Mixin of `ConversationEngine` (uses its `store`, `config`, `waiting`, publishing helpers)."""

    store: Any
    config: Any
    waiting: dict[str, list[str]]
    dirty: dict[str, int]
    loads: dict[str, int]
    last_position: dict[str, int]

    if TYPE_CHECKING:  # provided by `ConversationEngine`

        def _start_event(self, conv: Conversation, p: Participant) -> None: ...
        def _publish_state(self, conv: Conversation) -> None: ...
        def bot_message(
            self,
            integ: dict,
            conv: Conversation,
            p: Participant,
            text: str,
            content: list[dict] | None = None,
        ) -> MessageRecord: ...

    def _agent_load(self, user_id: str) -> int:
        """Alerting/connected agent legs of `user_id` (kept by `_offer` / `_end_agent_leg`)."""
        return self.loads.get(user_id, 0)

    def _candidates(self, queue_id: str) -> list[dict]:
        """On-queue members of `queue_id` with spare capacity, least loaded / longest idle first
        (Genesys' default "most available" distribution)."""
        out = [
            u
            for u in self.store.users.values()
            if queue_id in u.get("queues", [])
            and u.get("routing_status") in ROUTABLE
            and self._agent_load(u["id"]) < self.config.agent_capacity
        ]
        out.sort(key=lambda u: (self._agent_load(u["id"]), u.get("status_time", "")))
        return out

    def _declined(self, conv: Conversation) -> set[str]:
        return {
            p.user_id
            for p in conv.participants
            if p.purpose == "agent"
            and p.user_id
            and p.disconnect_type == "client"
            and p.connected_time is None
        }

    def _queue(self, conv: Conversation, queue_id: str) -> None:
        """Put `conv` at the end of the queue's waiting list."""
        waiting = self.waiting.setdefault(queue_id, [])
        waiting.append(conv.id)
        self._mark(queue_id, len(waiting) - 1)

    def _unqueue(self, conv: Conversation) -> None:
        """Take `conv` out of every waiting list (offered, ended, transferred)."""
        self.last_position.pop(conv.id, None)
        for qid in conv.queues:
            waiting = self.waiting.get(qid, [])
            if conv.id in waiting:
                idx = waiting.index(conv.id)
                del waiting[idx]
                self._mark(qid, idx)

    def _mark(self, queue_id: str, index: int) -> None:
        """Positions from `index` on may have changed."""
        self.dirty[queue_id] = min(self.dirty.get(queue_id, index), index)

    def _route(self, queue_id: str) -> None:
        """Offer waiting conversations of `queue_id` (oldest first) to available agents, then
        announce the positions that changed."""
        waiting = self.waiting.get(queue_id, [])
        candidates = self._candidates(queue_id) if waiting else []
        for cid in list(waiting):
            if not candidates:
                break
            conv = self.store.conversations[cid]
            declined = self._declined(conv)
            agent = next((u for u in candidates if u["id"] not in declined), None)
            if agent is None:
                continue
            self._unqueue(conv)
            self._offer(conv, agent, queue_id)
            candidates = self._candidates(queue_id)
        self._announce_positions(queue_id)

    def route_all(self) -> None:
        """Re-run routing on every queue (after an agent's routing status changed)."""
        with self.store.lock:
            for qid in list(self.waiting):
                self._route(qid)

    def _offer(self, conv: Conversation, user: dict, queue_id: str | None) -> Participant:
        now = now_iso()
        queue = self.store.queues.get(queue_id or "", {})
        agent = Participant(
            purpose="agent",
            state="alerting",
            start_time=now,
            initial_state="alerting",
            start_alerting_time=now,
            name=user.get("name"),
            user_id=user["id"],
            user_name=user.get("name"),
            queue_id=queue_id,
            queue_name=queue.get("name"),
            direction="inbound",
            address=conv.customer_id,
        )
        conv.participants.append(agent)
        self.loads[user["id"]] = self.loads.get(user["id"], 0) + 1
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
        if (
            user
            and user.get("routing_status") == "INTERACTING"
            and self._agent_load(user["id"]) == 0
        ):
            self._set_status(user, "IDLE")

    def _announce_positions(self, queue_id: str) -> None:
        """'You are number N in the queue' Bot messages to every waiting conversation whose position
        changed since it was last told (only positions from the first change on are checked)."""
        waiting = self.waiting.get(queue_id, [])
        start = self.dirty.pop(queue_id, len(waiting))
        if not self.config.queue_position_messages:
            return
        for pos in range(start + 1, len(waiting) + 1):
            cid = waiting[pos - 1]
            if self.last_position.get(cid) == pos:
                continue
            self.last_position[cid] = pos
            conv = self.store.conversations[cid]
            integ = self.store.integrations.get(conv.integration_id)
            acd = next(p for p in reversed(conv.participants) if p.purpose == "acd")
            if integ is not None:
                self.bot_message(
                    integ, conv, acd, self.config.queue_position_text.format(position=pos)
                )

    def set_routing_status(self, user_id: str, status: str) -> dict:
        """PUT routingstatus: `IDLE` puts the agent on queue (and triggers routing), `OFF_QUEUE` off."""
        allowed = ("IDLE", "OFF_QUEUE")
        if status not in allowed:
            raise EngineError(
                400,
                "bad.request",
                messages.STATUS_UNKNOWN.format(status=status, allowed=", ".join(allowed)),
            )
        with self.store.lock:
            user = self.store.users[user_id]
            if status == "IDLE" and self._agent_load(user_id) > 0:
                status = "INTERACTING"
            self._set_status(user, status)
            self.route_all()
            return user
