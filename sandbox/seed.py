"""Seeded demo identities (docs/design.md §9) and the merge of `[seed]` configuration overrides.

`[seed]` may contain lists `roles`, `clients`, `users`, `queues`, `flows`, `integrations`: an entry
whose `id` matches a default entry updates it field by field, any other entry is added;
`replace = true` drops the defaults first. `webhook_url` sets the demo integration's webhook URL.
Example — a client whose role lacks a permission::

    [[seed.roles]]
    id = "no-users"
    permissions = ["conversation:message:create", "messaging:integration:view"]
    [[seed.clients]]
    id = "limited-client"
    secret = "limited-secret-0123456789"
    roles = ["no-users"]
"""

from __future__ import annotations

import copy
from typing import Any

from om_bridge.sandbox import messages

DEMO_ORG_ID = "7d0c6a3e-1b2f-4c5d-8e9f-0a1b2c3d4e5f"
DEMO_ORG_NAME = "demo"
# The org's home division: Genesys division ids are UUIDs, so the sandbox seeds a fixed one.
HOME_DIVISION_ID = "2a0e5c4b-7d91-4f3a-b6c8-1e9d0f2a3b4c"
HOME_DIVISION_NAME = "Home"


def home_division(named: bool = True) -> dict:
    """The home division as a `Division` reference (`name` where the model has one)."""
    ref = (
        {"id": HOME_DIVISION_ID, "name": HOME_DIVISION_NAME} if named else {"id": HOME_DIVISION_ID}
    )
    ref["selfUri"] = f"/api/v2/authorization/divisions/{HOME_DIVISION_ID}"
    return ref


def home_division_membership() -> list[dict]:
    """`divisions` of a conversation: every sandbox conversation is in the home division."""
    return [{"division": home_division(named=False), "entities": []}]


DEMO_QUEUE_ID = "5b1c7d2e-3f40-4a51-9b62-7c83d94ea0b1"
SECOND_QUEUE_ID = "6c2d8e3f-4051-4b62-8c73-8d94ea5fb1c2"
DEMO_AGENT_ID = "3e23b1b3-325f-4fbd-8fe0-e88416850c0e"
SECOND_AGENT_ID = "4f34c2c4-4360-4ace-9af1-f99527961d1f"
DEMO_INTEGRATION_ID = "34071108-1569-4cb0-9137-a326b8a9e815"
DEMO_INTEGRATION_NAME = "om-bridge-demo"
DEMO_FLOW_ID = "8e4f0a51-6273-4d84-ae95-af16fc7d03e4"
DEMO_MESSAGING_SETTING_ID = "f61e2044-d338-4582-a2ed-0fbda7139aeb"
DEMO_WEBHOOK_URL = "http://127.0.0.1:8080/handover/genesysCloudOM"
DEMO_WEBHOOK_SECRET = "demo-webhook-secret-0123456789"
BRIDGE_CLIENT_ID = "bridge-client"
BRIDGE_CLIENT_SECRET = "bridge-secret-0123456789"
AGENT_CONSOLE_CLIENT_ID = "agent-console"
AGENT_CONSOLE_CLIENT_SECRET = "agent-console-secret"
DEMO_AGENT_USERNAME = "alex@example.com"
DEMO_AGENT_PASSWORD = "demo-agent-password"
SECOND_AGENT_USERNAME = "sam@example.com"
SECOND_AGENT_PASSWORD = "demo-supervisor-password"

# Everything the bridge calls (Open Messaging, conversation lookups, users, queues, end detection).
BRIDGE_PERMISSIONS = [
    "messaging:integration:view",
    "messaging:integration:add",
    "messaging:integration:edit",
    "messaging:integration:delete",
    "messaging:setting:view",
    "conversation:message:create",
    "conversation:message:receive",
    "conversation:message:view",
    "conversation:webmessaging:view",
    "conversation:participant:wrapup",
    "conversation:communication:disconnect",
    "analytics:conversationDetail:view",
    "routing:queue:view",
    "routing:message:manage",
    "directory:user:view",
    "notifications",
    "integrations:integration:view",
    "integrations:action:view",
    "integrations:action:execute",
    "processautomation:trigger:view",
    "processautomation:trigger:add",
    "processautomation:trigger:edit",
]
AGENT_PERMISSIONS = [
    "conversation:message:view",
    "conversation:message:create",
    "conversation:communication:view",
    "conversation:participant:wrapup",
    "conversation:communication:transfer",
    "conversation:communication:disconnect",
    "routing:queue:view",
    "directory:user:view",
    "notifications",
]
SUPERVISOR_PERMISSIONS = [*AGENT_PERMISSIONS, "routing:agent:manage"]


def default_seed() -> dict[str, Any]:
    """The demo organisation as plain data (a fresh copy each call)."""
    return {
        "org": {"id": DEMO_ORG_ID, "name": DEMO_ORG_NAME},
        "roles": [
            {"id": "bridge", "name": "om-bridge", "permissions": list(BRIDGE_PERMISSIONS)},
            {"id": "agent", "name": "Agent", "permissions": list(AGENT_PERMISSIONS)},
            {"id": "supervisor", "name": "Supervisor", "permissions": list(SUPERVISOR_PERMISSIONS)},
        ],
        "clients": [
            {
                "id": BRIDGE_CLIENT_ID,
                "name": "om-bridge",
                "secret": BRIDGE_CLIENT_SECRET,
                "roles": ["bridge"],
                "grants": ["client_credentials"],
            },
            {
                "id": AGENT_CONSOLE_CLIENT_ID,
                "name": "Agent console",
                "secret": AGENT_CONSOLE_CLIENT_SECRET,
                "roles": [],
                "grants": ["password"],
            },
        ],
        "users": [
            {
                "id": DEMO_AGENT_ID,
                "name": "Alex Agent",
                "email": DEMO_AGENT_USERNAME,
                "username": DEMO_AGENT_USERNAME,
                "password": DEMO_AGENT_PASSWORD,
                "title": "Agent",
                "department": "Support",
                "roles": ["agent"],
                "queues": [DEMO_QUEUE_ID],
                "routing_status": "IDLE",
                "color": "#2f7ed8",
            },
            {
                "id": SECOND_AGENT_ID,
                "name": "Sam Supervisor",
                "email": SECOND_AGENT_USERNAME,
                "username": SECOND_AGENT_USERNAME,
                "password": SECOND_AGENT_PASSWORD,
                "title": "Supervisor",
                "department": "Support",
                "roles": ["supervisor"],
                "queues": [SECOND_QUEUE_ID],
                "routing_status": "IDLE",  # on queue, so a transfer to the Second Queue is answered
                "color": "#8e44ad",
            },
        ],
        "queues": [
            {"id": DEMO_QUEUE_ID, "name": "Demo Queue"},
            {"id": SECOND_QUEUE_ID, "name": "Second Queue"},
        ],
        "flows": [
            {
                "id": DEMO_FLOW_ID,
                "name": "om-bridge demo inbound message flow",
                "queue_id": DEMO_QUEUE_ID,
            },
        ],
        "integrations": [
            {
                "id": DEMO_INTEGRATION_ID,
                "name": DEMO_INTEGRATION_NAME,
                "outboundNotificationWebhookUrl": DEMO_WEBHOOK_URL,
                "outboundNotificationWebhookSignatureSecretToken": DEMO_WEBHOOK_SECRET,
                "webhookHeaders": {},
                "flow_id": DEMO_FLOW_ID,
                "messaging_setting_id": DEMO_MESSAGING_SETTING_ID,
            },
        ],
        "messaging_settings": [
            {
                "id": DEMO_MESSAGING_SETTING_ID,
                "name": "om-bridge demo",
                "typing_inbound": True,
                "typing_outbound": True,
            },
        ],
        "default_flow_id": DEMO_FLOW_ID,
    }


_LISTS = ("roles", "clients", "users", "queues", "flows", "integrations", "messaging_settings")


def build_seed(overrides: dict | None = None) -> dict[str, Any]:
    """The default seed with `overrides` (the `[seed]` config table) merged in; validated."""
    seed = default_seed()
    overrides = copy.deepcopy(overrides or {})
    if overrides.pop("replace", False):
        for name in _LISTS:
            seed[name] = []
    if "webhook_url" in overrides:
        url = overrides.pop("webhook_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(messages.SEED_BAD.format(problem="webhook_url must be an http(s) URL"))
        for integ in seed["integrations"]:
            if integ["id"] == DEMO_INTEGRATION_ID:
                integ["outboundNotificationWebhookUrl"] = url
    for key, value in overrides.items():
        if key in _LISTS:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise ValueError(
                    messages.SEED_BAD.format(problem=f"seed.{key} must be a list of tables")
                )
            by_id = {item["id"]: item for item in seed[key]}
            for i, entry in enumerate(value):
                if not isinstance(entry.get("id"), str) or not entry["id"]:
                    raise ValueError(
                        messages.SEED_BAD.format(problem=f"seed.{key}[{i}].id is required")
                    )
                if entry["id"] in by_id:
                    by_id[entry["id"]].update(entry)
                else:
                    seed[key].append(entry)
                    by_id[entry["id"]] = entry
        elif key in ("org", "default_flow_id"):
            seed[key] = value if not isinstance(value, dict) else {**seed[key], **value}
        else:
            raise ValueError(messages.SEED_BAD.format(problem=f"unknown key seed.{key}"))
    _check_refs(seed)
    return seed


def _check_refs(seed: dict) -> None:
    roles = {r["id"] for r in seed["roles"]}
    queues = {q["id"] for q in seed["queues"]}
    flows = {f["id"] for f in seed["flows"]}
    for kind in ("clients", "users"):
        for item in seed[kind]:
            for role in item.get("roles", []):
                if role not in roles:
                    raise ValueError(
                        messages.SEED_BAD.format(
                            problem=f"seed.{kind} '{item['id']}' names unknown role '{role}'"
                        )
                    )
    for user in seed["users"]:
        for q in user.get("queues", []):
            if q not in queues:
                raise ValueError(
                    messages.SEED_BAD.format(
                        problem=f"seed.users '{user['id']}' names unknown queue '{q}'"
                    )
                )
    for flow in seed["flows"]:
        if flow.get("queue_id") not in queues:
            raise ValueError(
                messages.SEED_BAD.format(
                    problem=f"seed.flows '{flow['id']}' names unknown queue '{flow.get('queue_id')}'"
                )
            )
    for integ in seed["integrations"]:
        if integ.get("flow_id") and integ["flow_id"] not in flows:
            raise ValueError(
                messages.SEED_BAD.format(
                    problem=f"seed.integrations '{integ['id']}' names unknown flow '{integ['flow_id']}'"
                )
            )
