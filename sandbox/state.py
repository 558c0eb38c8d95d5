"""In-memory state of the sandbox organisation: directory (roles, OAuth clients, users, queues,
flows, integrations, messaging settings) and conversations/messages, behind one re-entrant lock.

Entities are plain dicts shaped like the seed (`sandbox.seed`); conversations are
`sandbox.model` objects. Every mutation happens under `Store.lock`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from sandbox.model import Conversation, MessageRecord


def now_iso() -> str:
    """Current UTC time as Genesys writes it: ISO-8601 with milliseconds and `Z`."""
    return iso(datetime.now(timezone.utc))


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


class Store:
    """The organisation's data. `lock` guards every read-modify-write of it."""

    def __init__(self, seed: dict[str, Any]) -> None:
        self.lock = threading.RLock()
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
            s["id"]: dict(s) for s in seed.get("messaging_settings", [])}
        self.default_flow_id: str | None = seed.get("default_flow_id")
        created = now_iso()
        self.integrations: dict[str, dict] = {}
        for i in seed["integrations"]:
            integ = {"webhookHeaders": {}, "status": "Active", "createStatus": "Completed",
                     "dateCreated": created, "dateModified": created, **i}
            self.integrations[integ["id"]] = integ
        self.conversations: dict[str, Conversation] = {}
        self.messages: dict[str, MessageRecord] = {}
        # (integration id, customer id) -> latest conversation id, for threading
        self.threads: dict[tuple[str, str], str] = {}

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
            if user.get("username", "").lower() == wanted or user.get("email", "").lower() == wanted:
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
