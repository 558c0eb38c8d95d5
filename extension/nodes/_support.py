"""What a node type does not support: config keys and values that are accepted (so real Cognigy
charts load) but have no effect in om-bridge, reported once when a flow is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._values import thaw
from ..descriptor import NodeDescriptor
from ..fields import MISSING, Field

# Description prefix of the fields om-bridge accepts but ignores; their schema accepts any value.
UNSUPPORTED_PREFIX = "Not supported by om-bridge: "


def is_unsupported(field: Field) -> bool:
    return isinstance(field.description, str) and field.description.startswith(UNSUPPORTED_PREFIX)


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {})


def unsupported_field(
    key: str, label: str, field_type: str, why: str, default: Any = MISSING, **params: Any
) -> Field:
    """A field accepted for compatibility with Cognigy's node, described as not supported."""
    return Field(
        key=key,
        label=label,
        type=field_type,
        default_value=default,
        description=UNSUPPORTED_PREFIX + why,
        params=params,
    )


def set_keys(
    descriptor: NodeDescriptor, config: Mapping[str, Any], reasons: Mapping[str, str]
) -> list[str]:
    """Notes for the keys of `reasons` that `config` sets to something other than their default or
    an empty value (a Cognigy export carries every key, mostly with defaults)."""
    notes = []
    for key, why in reasons.items():
        if key not in config:
            continue
        value = config[key]
        try:
            default = descriptor.field(key).default_value
        except KeyError:
            default = MISSING
        if _empty(value) or (default is not MISSING and value == thaw(default)):
            continue
        try:
            label = descriptor.field(key).label
        except KeyError:
            label = key
        notes.append(f"{label} ({key}): {why}")
    return notes
