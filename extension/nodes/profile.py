"""Update Profile: sets one key of the contact profile (Cognigy's Update Profile node), e.g. the
first name the Genesys handover sends when "Send Profile information" is on."""

from __future__ import annotations

from typing import Any

from ..api import NodeError, NodeParams
from ..descriptor import NodeDescriptor
from ..fields import Field
from ..layout import Appearance, FormEntry, Preview

# Cognigy's contact profile keys (docs/reference/cognigy-model.md §3); custom keys are allowed too.
PROFILE_KEYS = (
    "firstname",
    "lastname",
    "nickname",
    "email",
    "gender",
    "age",
    "birthday",
    "location",
)

DESCRIPTOR = NodeDescriptor(
    type="updateProfile",
    default_label="Update Profile",
    summary="Updates a key of the contact profile",
    appearance=Appearance(color="#F2994A", text_color="black"),
    fields=(
        Field(
            key="profileKey",
            label="Profile Key",
            type="cognigyText",
            default_value="firstname",
            description="The profile key: " + ", ".join(PROFILE_KEYS) + ", or a custom key",
            params={"required": True},
        ),
        Field(
            key="value",
            label="Value",
            type="cognigyText",
            default_value="",
            description="The new value (CognigyScript allowed, e.g. {{ input.data.firstName }})",
        ),
    ),
    form=(FormEntry("profileKey"), FormEntry("value")),
    preview=Preview(type="text", key="profileKey"),
    tags=("profile",),
)


def check(config: dict[str, Any]) -> list[str]:
    """Load-time check: a Profile Key that is empty or dotted raises NodeError."""
    key = config.get("profileKey", "firstname")
    if isinstance(key, str) and "{{" not in key and (not key.strip() or "." in key):
        raise NodeError("Profile Key must be a profile key name (no dots)")
    return []


def update_profile(params: NodeParams) -> None:
    """Set `profile[profileKey]` to the value."""
    key = (params.config.get("profileKey") or "").strip()
    if not key or "." in key:
        raise NodeError("Profile Key must be a profile key name (no dots)")
    params.cognigy.api.update_profile(key, params.config.get("value"))
