"""Texts of the Genesys webhook route: JSON error bodies and log lines (no payloads, no secrets)."""

from __future__ import annotations

from typing import Final

BAD_SIGNATURE: Final = (
    "X-Hub-Signature-256 does not match the body signed with any configured "
    "provider's webhook secret"
)
NO_PROVIDERS: Final = "no Genesys Open Messaging provider is configured"
TOO_LARGE: Final = "request body is {size} bytes; the limit is {limit} bytes"
STALE: Final = (
    "channel.time {time} is {age} s old; deliveries older than {limit} s (Genesys' retry window "
    "plus clock skew) are refused as replays"
)
INVALID_JSON: Final = "request body is not valid JSON: {error}"
SCHEMA_INVALID: Final = "request body does not match genesys-webhook.json at {path}: {error}"
NO_DATA_ACTIONS: Final = (
    "no X-Hub-Signature-256 header, and data-action end requests are not handled by this bridge"
)

LOG_REJECTED: Final = "webhook %s rejected: %s (%d)"
LOG_DUPLICATE: Final = "webhook %s: duplicate of message %s; ignored"
LOG_ACCEPTED: Final = "webhook %s: %s message %s for provider %s accepted"
LOG_IGNORED: Final = (
    "webhook %s: message %s has type %r, which this bridge does not handle; ignored"
)
LOG_DATA_ACTION: Final = "webhook %s: data-action end request answered %d"
