"""Sandbox configuration: one `SandboxConfig` loaded from a TOML or JSON file, a dict, or defaults.

Known sections (every key optional)::

    [auth]            expires_in = 86400            # seconds, access_token lifetime
    [conversations]   threading_window_minutes = 0  # 0: a new conversation after each end
                      retention_minutes = 1440      # ENDED conversations (and their messages)
                                                    # are forgotten after this; never sooner than
                                                    # the threading window; then GET is a 404
    [flow]            connected_text = "Connected"  # "" disables the Send Response
                      queue_position_messages = true
                      queue_position_text = "You are number {position} in the queue"
                      inbound_receipts = true       # Delivered receipts for inbound messages
    [routing]         agent_capacity = 4            # message conversations per agent
    [webhook]         timeout = 10.0, retries = 5, retry_delay = 5.0, workers = 4
    [rate_limit]      per_minute = 300              # per access token; 0 disables
    [[faults]]        see sandbox.faults.Fault.from_dict
    [seed]            see sandbox.seed.build_seed

Any other section (e.g. `notifications`, `eventbridge`, `data_action`) is kept as a plain dict in
`config.sections[name]`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from om_bridge.sandbox import messages


class ConfigError(ValueError):
    """Invalid sandbox configuration; the message names the offending key."""


# section -> key -> (type(s), default)
_SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "auth": {"expires_in": ((int,), 86400)},
    "conversations": {
        "threading_window_minutes": ((int, float), 0),
        "retention_minutes": ((int, float), 1440),
    },
    "flow": {
        "connected_text": ((str,), "Connected"),
        "queue_position_messages": ((bool,), True),
        "queue_position_text": ((str,), "You are number {position} in the queue"),
        "inbound_receipts": ((bool,), True),
    },
    "routing": {"agent_capacity": ((int,), 4)},
    "webhook": {
        "timeout": ((int, float), 10.0),
        "retries": ((int,), 5),
        "retry_delay": ((int, float), 5.0),
        "workers": ((int,), 4),
    },
    "rate_limit": {"per_minute": ((int,), 300)},
}
_SPECIAL = {"faults", "seed"}


@dataclass
class SandboxConfig:
    """Validated sandbox settings; `sections` keeps sections this module does not know."""

    expires_in: int = 86400
    threading_window_minutes: float = 0
    retention_minutes: float = 1440
    connected_text: str = "Connected"
    queue_position_messages: bool = True
    queue_position_text: str = "You are number {position} in the queue"
    inbound_receipts: bool = True
    agent_capacity: int = 4
    webhook_timeout: float = 10.0
    webhook_retries: int = 5
    webhook_retry_delay: float = 5.0
    webhook_workers: int = 4
    rate_limit_per_minute: int = 300
    faults: list[dict] = field(default_factory=list)
    seed: dict = field(default_factory=dict)
    sections: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, source: SandboxConfig | dict | str | Path | None = None) -> SandboxConfig:
        """Build from a config object (returned as is), a dict, a `.toml`/`.json` path, or None."""
        if source is None:
            return cls()
        if isinstance(source, SandboxConfig):
            return source
        if isinstance(source, (str, Path)):
            return cls.from_dict(_read_file(Path(source)))
        if isinstance(source, dict):
            return cls.from_dict(source)
        raise ConfigError(messages.CONFIG_BAD_SOURCE.format(type=type(source).__name__))

    @classmethod
    def from_dict(cls, data: dict) -> SandboxConfig:
        """Validate a parsed configuration; raises `ConfigError` naming the first bad key."""
        if not isinstance(data, dict):
            raise ConfigError(messages.CONFIG_NOT_TABLE.format(key="<root>"))
        values: dict[str, Any] = {}
        sections: dict[str, dict] = {}
        for name, section in data.items():
            if name in _SCHEMA:
                values.update(_section(name, section))
            elif name == "faults":
                values["faults"] = _faults(section)
            elif name == "seed":
                if not isinstance(section, dict):
                    raise ConfigError(messages.CONFIG_NOT_TABLE.format(key="seed"))
                values["seed"] = section
            elif isinstance(section, dict):
                sections[name] = dict(section)
            else:
                raise ConfigError(messages.CONFIG_NOT_TABLE.format(key=name))
        return cls(sections=sections, **values)

    @property
    def retention_seconds(self) -> float:
        """How long an ended conversation is kept: `retention_minutes`, but never less than the
        threading window (a customer coming back inside it must find the conversation)."""
        return max(self.retention_minutes, self.threading_window_minutes) * 60.0

    def section(self, name: str) -> dict:
        """The unknown section `name` as a dict (empty when absent)."""
        return self.sections.get(name, {})


_FIELD_NAMES = {
    ("auth", "expires_in"): "expires_in",
    ("conversations", "threading_window_minutes"): "threading_window_minutes",
    ("conversations", "retention_minutes"): "retention_minutes",
    ("flow", "connected_text"): "connected_text",
    ("flow", "queue_position_messages"): "queue_position_messages",
    ("flow", "queue_position_text"): "queue_position_text",
    ("flow", "inbound_receipts"): "inbound_receipts",
    ("routing", "agent_capacity"): "agent_capacity",
    ("webhook", "timeout"): "webhook_timeout",
    ("webhook", "retries"): "webhook_retries",
    ("webhook", "retry_delay"): "webhook_retry_delay",
    ("webhook", "workers"): "webhook_workers",
    ("rate_limit", "per_minute"): "rate_limit_per_minute",
}


def _section(name: str, section: Any) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ConfigError(messages.CONFIG_NOT_TABLE.format(key=name))
    out: dict[str, Any] = {}
    for key, value in section.items():
        spec = _SCHEMA[name].get(key)
        full = f"{name}.{key}"
        if spec is None:
            raise ConfigError(messages.CONFIG_UNKNOWN_KEY.format(key=full))
        types, _default = spec
        # bool is an int subclass: never accept true/false for a number
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ConfigError(
                messages.CONFIG_BAD_TYPE.format(
                    key=full, expected="/".join(t.__name__ for t in types), got=type(value).__name__
                )
            )
        if types != (bool,) and types != (str,) and isinstance(value, (int, float)) and value < 0:
            raise ConfigError(messages.CONFIG_NEGATIVE.format(key=full))
        out[_FIELD_NAMES[(name, key)]] = value
    if name == "auth" and out.get("expires_in") == 0:
        raise ConfigError(messages.CONFIG_NEGATIVE.format(key="auth.expires_in"))
    return out


def _faults(section: Any) -> list[dict]:
    # Imported here to keep `sandbox.config` free of Flask imports.
    from om_bridge.sandbox.faults import Fault, FaultError

    if not isinstance(section, list):
        raise ConfigError(messages.CONFIG_NOT_LIST.format(key="faults"))
    for i, item in enumerate(section):
        try:
            Fault.from_dict(item)
        except FaultError as exc:
            raise ConfigError(f"faults[{i}]: {exc}") from None
    return [dict(item) for item in section]


def _read_file(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            messages.CONFIG_UNREADABLE.format(path=path, error=exc.strerror)
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(messages.CONFIG_UNPARSABLE.format(path=path, error=exc)) from None
