"""Settings of the Web Services Data Action call the sandbox makes for configured detail topics
(Genesys: Trigger -> Workflow -> Call Data Action), from the `[data_action]` section or
`PUT /sandbox/data-action` (same keys).

    [data_action]
    url = "http://127.0.0.1:8080/handover/genesysCloudOM"   # "" = disabled (default)
    auth = { type = "header", header = "Authorization", value = "..." }  # User Defined credential
           # or { type = "basic", username = "...", password = "..." } or { type = "none" }
    body = "cognigy"       # Cognigy's {userId, topic, disconnectType}; "detail": the event body
    topics = ["v2.detail.events.conversation.{id}.customer.end",
              "v2.detail.events.conversation.{id}.user.end",
              "v2.detail.events.conversation.{id}.acw"]
    match = { mediaType = "MESSAGE", messageType = "OPEN" }   # the trigger's Equal criteria
    timeout_seconds = 60   # the action's timeout (Genesys allows 1-60)
    retries = 0            # Genesys's retry behaviour is undocumented: 0 = a single attempt
    retry_delay_seconds = 1
    workflow_id = "0e5f3b2a-7c41-4d8e-9a6b-3f2e1d0c9b8a"   # the workflow API triggers may target

`topics` + `match` act as the org's trigger on the workflow; triggers created through
`/api/v2/processautomation/triggers` that target `workflow_id` run it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from om_bridge.sandbox.config import ConfigError
from om_bridge.sandbox.eventbridge import messages
from om_bridge.sandbox.eventbridge.settings import (
    DEFAULT_TOPICS,
    parse_auth,
    parse_topics,
    parse_url,
    redacted,
)
from om_bridge.sandbox.notifications.settings import read_section

_NUM = (int, float)
_SCHEMA: dict[str, tuple[tuple[type, ...], Any]] = {
    "url": ((str,), ""),
    "auth": ((dict,), {"type": "none"}),
    "body": ((str,), "cognigy"),
    "topics": ((list,), DEFAULT_TOPICS),
    "match": ((dict,), {"mediaType": "MESSAGE", "messageType": "OPEN"}),
    "timeout_seconds": (_NUM, 60),
    "retries": ((int,), 0),
    "retry_delay_seconds": (_NUM, 1),
    "workflow_id": ((str,), "0e5f3b2a-7c41-4d8e-9a6b-3f2e1d0c9b8a"),
}
DEMO_WORKFLOW_ID = "0e5f3b2a-7c41-4d8e-9a6b-3f2e1d0c9b8a"


@dataclass
class DataActionSettings:
    """Where and how the data action is called (`url` empty: disabled)."""

    url: str = ""
    auth: dict[str, str] = field(default_factory=lambda: {"type": "none"})
    body: str = "cognigy"
    topics: list[str] = field(default_factory=lambda: list(DEFAULT_TOPICS))
    match: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 60
    retries: int = 0
    retry_delay_seconds: float = 1
    workflow_id: str = DEMO_WORKFLOW_ID

    @classmethod
    def from_section(cls, data: dict | None) -> DataActionSettings:
        """Validate the `[data_action]` section; `ConfigError` names the bad key."""
        name = "data_action"
        values = read_section(name, data or {}, _SCHEMA)
        values["url"] = parse_url(name, values["url"])
        values["auth"] = parse_auth(
            name,
            values["auth"],
            {"header": ("header", "value"), "basic": ("username",), "none": ()},
            {"header": "Authorization"},
        )
        values["topics"] = parse_topics(name, values["topics"])
        if values["body"] not in ("cognigy", "detail"):
            raise ConfigError(messages.CONFIG_BAD_BODY.format(section=name, value=values["body"]))
        match = values["match"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in match.items()):
            raise ConfigError(messages.CONFIG_BAD_MATCH.format(section=name))
        values["match"] = dict(match)
        if not values["workflow_id"]:
            raise ConfigError(f"{name}.workflow_id must not be empty")
        if not 0 < values["timeout_seconds"] <= 60:
            raise ConfigError(f"{name}.timeout_seconds must be between 1 and 60")
        return cls(**values)

    def public(self) -> dict:
        """These settings for the admin view, secrets redacted."""
        return {
            "url": self.url,
            "auth": redacted(self.auth),
            "body": self.body,
            "topics": list(self.topics),
            "match": dict(self.match),
            "timeout_seconds": self.timeout_seconds,
            "retries": self.retries,
            "retry_delay_seconds": self.retry_delay_seconds,
            "workflow_id": self.workflow_id,
        }
