"""Add to Context: stores a value under a (dotted) key of the session context."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, FormEntry, Preview

MODES = {"simple": "Simple", "array": "Array"}

DESCRIPTOR = NodeDescriptor(
    type="addToContext",
    default_label="Add to Context",
    summary="Stores a value in the conversation context",
    appearance=Appearance(color="#56CCF2", text_color="black"),
    fields=(
        Field(
            key="key",
            label="Key",
            type="cognigyText",
            default_value="",
            description="Context key, dots for nesting (e.g. user.topic)",
            params={"required": True},
        ),
        Field(key="value", label="Value", type="cognigyText", default_value=""),
        Field(
            key="mode",
            label="Mode",
            type="select",
            default_value="simple",
            description="Simple replaces the value; Array appends it to a list",
            params={"options": [{"label": v, "value": k} for k, v in MODES.items()]},
        ),
    ),
    form=(FormEntry("key"), FormEntry("value"), FormEntry("mode")),
    preview=Preview(type="text", key="key"),
    tags=("data",),
)


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: an empty key or an unknown mode raises NodeError (nothing unsupported)."""
    key = config.get("key")
    if isinstance(key, str) and not key.strip(".").strip():
        raise NodeError(
            "Key is empty" if not key.strip() else f"Context key {key!r} names no property"
        )
    if config.get("mode", "simple") not in MODES:
        raise NodeError(f"Mode must be one of {list(MODES)}")
    return []


def add_to_context(params: NodeParams) -> None:
    """Add the value to `context[key]` in the chosen mode."""
    key = (params.config.get("key") or "").strip()
    if not key:
        raise NodeError("Key is empty")
    mode = params.config.get("mode") or "simple"
    if mode not in MODES:
        raise NodeError(f"Mode must be one of {list(MODES)}")
    params.cognigy.api.add_to_context(key, params.config.get("value"), mode)
