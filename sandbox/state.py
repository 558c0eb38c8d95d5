"""In-memory state of the sandbox organisation: directory (roles, OAuth clients, users, queues,
flows, integrations, messaging settings) and conversations/messages, behind one re-entrant lock.

Entities are plain dicts shaped like the seed (`sandbox.seed`); conversations are
`sandbox.model` objects. Every mutation happens under `Store.lock`. Ended conversations are
remembered in end order, so `forget_ended()` drops those past their retention from the front.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from om_bridge.sandbox.model import Conversation, MessageRecord


def now_iso() -> str:
    """Current UTC time as Genesys writes it: ISO-8601 with milliseconds and `Z`."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


class Store:
    """The organisation's data. `lock` guards every read-modify-write of it."""

    def __init__(self, seed: dict[str, Any], clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock  # wall-clock seconds of conversation ends (threading, retention)
        self.org: dict = dict(seed["org"])
        self.roles: dict[str, dict] = {r["id"]: dict(r) for r in seed["roles"]}
        self.clients: dict[str, dict] = {c["id"]: dict(c) for c in seed["clients"]}
        self.users: dict[str, dict] = {}
        for u in seed["users"]:
            user = dict(u)
            user.setdefault("routing_status", "OFF_QUEUE")
            user["status_time"] = now_iso()
            user.setdefault("queues", [])
            self.users[user["id"]] = user
        self.queues: dict[str, dict] = {q["id"]: dict(q) for q in seed["queues"]}
        self.flows: dict[str, dict] = {f["id"]: dict(f) for f in seed["flows"]}
        self.messaging_settings: dict[str, dict] = {
            s["id"]: dict(s) for s in seed.get("messaging_settings", [])
        }
        self.default_flow_id: str | None = seed.get("default_flow_id")
        created = now_iso()
        self.integrations: dict[str, dict] = {}
        for i in seed["integrations"]:
            integ = {
                "webhookHeaders": {},
                "status": "Active",
                "createStatus": "Completed",
                "dateCreated": created,
                "dateModified": created,
                **i,
            }
            self.integrations[integ["id"]] = integ
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, MessageRecord] = {}
        # (integration id, customer id) -> latest conversation id, for threading
        self.threads: dict[tuple[str, str], str] = {}
        # (integration id, customer id, channel.messageId) -> the message it created, so a
        # re-sent inbound message is answered with the original instead of posted twice
        self.inbound_ids: dict[tuple[str, str, str], str] = {}
        # (ended_at, conversation id) in end order; a re-opened conversation leaves a stale entry
        self.ended: collections.deque[tuple[float, str]] = collections.deque()

    # --- conversation retention ----------------------------------------------------------------
    def mark_ended(self, conv: Conversation) -> None:
        """Remember that `conv` ended (at `conv.ended_at`), for `forget_ended`."""
        if conv.ended_at is not None:
            self.ended.append((conv.ended_at, conv.id))

    def forget_ended(self, keep_seconds: float) -> list[Conversation]:
        """Drop conversations that ended over `keep_seconds` ago, with their messages and
        threading entry; returns them. Each end is looked at once: amortised O(1) per end."""
        horizon = self.clock() - keep_seconds
        gone: list[Conversation] = []
        while self.ended and self.ended[0][0] < horizon:
            _at, cid = self.ended.popleft()
            conv = self.conversations.get(cid)
            # still ended, and not re-opened and ended again later (that end has its own entry)
            if conv is None or conv.ended_at is None or conv.ended_at >= horizon:
                continue
            del self.conversations[cid]
            for mid in conv.message_ids:
                record = self.messages.pop(mid, None)
                if record is not None and record.provider_message_id:
                    self.inbound_ids.pop(
                        (conv.integration_id, conv.customer_id, record.provider_message_id), None
                    )
            key = (conv.integration_id, conv.customer_id)
            if self.threads.get(key) == cid:
                del self.threads[key]
            gone.append(conv)
        return gone

    # --- directory helpers -------------------------------------------------------------------
    def permissions_of(self, role_ids: list[str]) -> frozenset[str]:
        """Union of the permissions of `role_ids` (unknown roles grant nothing)."""
        perms: set[str] = set()
        for rid in role_ids:
            perms.update(self.roles.get(rid, {}).get("permissions", []))
        return frozenset(perms)

    def user_by_username(self, username: str) -> dict | None:
        wanted = username.strip().lower()
        for user in self.users.values():
            if (
                user.get("username", "").lower() == wanted
                or user.get("email", "").lower() == wanted
            ):
                return user
        return None

    def integration_queue(self, integration: dict) -> str | None:
        """The queue the integration's inbound message flow transfers to (integration -> flow -> queue)."""
        flow = self.flows.get(integration.get("flow_id") or self.default_flow_id or "")
        return flow.get("queue_id") if flow else None

    def integration_flow(self, integration: dict) -> dict | None:
        return self.flows.get(integration.get("flow_id") or self.default_flow_id or "")

    def typing_enabled(self, integration: dict, direction: str) -> bool:
        """Whether the integration's messaging setting enables typing `inbound`/`outbound`."""
        setting = self.messaging_settings.get(integration.get("messaging_setting_id") or "")
        if setting is None:
            return False
        return bool(setting.get(f"typing_{direction}", False))
