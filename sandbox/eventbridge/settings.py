"""Settings of the EventBridge API destination, from the `[eventbridge]` config section or the
`PUT /sandbox/eventbridge` admin route (same keys). Also the auth/URL/topic helpers the data
action settings reuse.

    [eventbridge]
    url = "http://127.0.0.1:8080/handover/genesysCloudOM/eventbridge"   # "" = disabled (default)
    auth = { type = "apikey", header = "Authorization", value = "demo-eventbridge-key" }
           # or { type = "basic", username = "...", password = "..." } or { type = "none" }
    timeout_seconds = 5            # EventBridge's API destination limit
    max_attempts = 185             # EventBridge's default retry policy: 185 attempts ...
    retry_budget_seconds = 86400   # ... within 24 h, then the event is dropped (no DLQ)
    retry_delay_seconds = 1        # first backoff, doubled per attempt ...
    max_retry_delay_seconds = 60   # ... up to this
    source_suffix = "om-bridge"    # source = aws.partner/genesys.com/cloud/<orgId>/<suffix>
    account = "123456789012"
    region = "us-east-1"
    topics = ["v2.detail.events.conversation.{id}.customer.end",
              "v2.detail.events.conversation.{id}.user.end",
              "v2.detail.events.conversation.{id}.acw"]
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from om_bridge.sandbox.config import ConfigError
from om_bridge.sandbox.notifications.settings import read_section

from . import messages

DETAIL_PATTERN = re.compile(r"^v2\.detail\.events\.conversation\.\{id\}\.[a-z]+(\.[a-z]+)?$")
DEFAULT_TOPICS = [
    "v2.detail.events.conversation.{id}.customer.end",
    "v2.detail.events.conversation.{id}.user.end",
    "v2.detail.events.conversation.{id}.acw",
]
DEMO_API_KEY = "demo-eventbridge-key"
_SUFFIX = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_NUM = (int, float)


def parse_url(section: str, value: str) -> str:
    """An http(s) URL or "" (disabled)."""
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(messages.CONFIG_BAD_URL.format(section=section, value=value))
    return value


def parse_topics(section: str, value: list) -> list[str]:
    """Detail-topic patterns with a literal `{id}`."""
    if not isinstance(value, list):
        raise ConfigError(messages.CONFIG_BAD_TOPIC.format(section=section, value=value))
    for topic in value:
        if not isinstance(topic, str) or not DETAIL_PATTERN.match(topic):
            raise ConfigError(messages.CONFIG_BAD_TOPIC.format(section=section, value=topic))
    return list(value)


def parse_auth(
    section: str, value: Any, types: dict[str, tuple[str, ...]], defaults: dict[str, str]
) -> dict[str, str]:
    """Validate an auth table: `type` one of `types` (type -> required keys); `defaults` fill
    optional keys such as the header name."""
    if not isinstance(value, dict):
        raise ConfigError(f"{section}.auth must be a table")
    kind = value.get("type", "none")
    if kind not in types:
        raise ConfigError(
            messages.CONFIG_BAD_AUTH_TYPE.format(
                section=section, allowed=", ".join(types), value=kind
            )
        )
    out = {**defaults, **{k: v for k, v in value.items()}}
    for key, item in out.items():
        if not isinstance(item, str):
            raise ConfigError(f"{section}.auth.{key} must be a string")
    for key in types[kind]:
        if not out.get(key):
            raise ConfigError(
                messages.CONFIG_AUTH_MISSING.format(section=section, key=key, type=kind)
            )
    return out


def auth_headers(auth: dict[str, str]) -> dict[str, str]:
    """The header a connection/credential adds: Basic, or a named header with a value."""
    kind = auth.get("type", "none")
    if kind == "basic":
        raw = f"{auth['username']}:{auth.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if kind in ("apikey", "header"):
        return {auth.get("header") or "Authorization": auth["value"]}
    return {}


def redacted(auth: dict[str, str]) -> dict[str, str]:
    """The auth table with secrets replaced, for admin views and logs."""
    return {k: ("***" if k in ("value", "password") and v else v) for k, v in auth.items()}


_SCHEMA: dict[str, tuple[tuple[type, ...], Any]] = {
    "url": ((str,), ""),
    "auth": ((dict,), {"type": "apikey", "header": "Authorization", "value": DEMO_API_KEY}),
    "timeout_seconds": (_NUM, 5),
    "max_attempts": ((int,), 185),
    "retry_budget_seconds": (_NUM, 86400),
    "retry_delay_seconds": (_NUM, 1),
    "max_retry_delay_seconds": (_NUM, 60),
    "source_suffix": ((str,), "om-bridge"),
    "account": ((str,), "123456789012"),
    "region": ((str,), "us-east-1"),
    "topics": ((list,), DEFAULT_TOPICS),
}


@dataclass
class EventBridgeSettings:
    """Where and how the sandbox delivers EventBridge events (`url` empty: disabled)."""

    url: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 5
    max_attempts: int = 185
    retry_budget_seconds: float = 86400
    retry_delay_seconds: float = 1
    max_retry_delay_seconds: float = 60
    source_suffix: str = "om-bridge"
    account: str = "123456789012"
    region: str = "us-east-1"
    topics: list[str] = field(default_factory=lambda: list(DEFAULT_TOPICS))

    @classmethod
    def from_section(cls, data: dict | None) -> EventBridgeSettings:
        """Validate the `[eventbridge]` section; `ConfigError` names the bad key."""
        name = "eventbridge"
        values = read_section(name, data or {}, _SCHEMA)
        values["url"] = parse_url(name, values["url"])
        values["auth"] = parse_auth(
            name,
            values["auth"],
            {"apikey": ("header", "value"), "basic": ("username",), "none": ()},
            {"header": "Authorization"},
        )
        values["topics"] = parse_topics(name, values["topics"])
        if not _SUFFIX.match(values["source_suffix"]):
            raise ConfigError(messages.CONFIG_BAD_SUFFIX.format(section=name))
        if not re.fullmatch(r"\d{12}", values["account"]):
            raise ConfigError(messages.CONFIG_BAD_ACCOUNT.format(section=name))
        if values["max_attempts"] < 1:
            raise ConfigError(f"{name}.max_attempts must be at least 1")
        if values["timeout_seconds"] == 0:
            raise ConfigError(f"{name}.timeout_seconds must be greater than 0")
        return cls(**values)

    def public(self) -> dict:
        """These settings for the admin view, secrets redacted."""
        return {
            "url": self.url,
            "auth": redacted(self.auth),
            "timeout_seconds": self.timeout_seconds,
            "max_attempts": self.max_attempts,
            "retry_budget_seconds": self.retry_budget_seconds,
            "retry_delay_seconds": self.retry_delay_seconds,
            "max_retry_delay_seconds": self.max_retry_delay_seconds,
            "source_suffix": self.source_suffix,
            "account": self.account,
            "region": self.region,
            "topics": list(self.topics),
        }
