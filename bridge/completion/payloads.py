"""Parsing and schema validation of inbound completion payloads, with 4xx answers that name the
problem (schema path, bad JSON, size) and never echo the payload."""

from __future__ import annotations

import hmac
from typing import Any, Final

from jsonschema.exceptions import best_match

from om_bridge import schemas
from om_bridge.bridge import jsonbody
from om_bridge.bridge.errors import BridgeError

from . import messages

MAX_BODY_BYTES: Final = 256 * 1024  # EventBridge's own event size limit is 256 KB


class PayloadError(BridgeError):
    """A request body we refuse: `status` (4xx), `code` and the message naming the problem."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message, status=status, code=error, **extra)


def parse(raw: bytes, schema: str, limit: int = MAX_BODY_BYTES) -> Any:
    """The JSON document in `raw`, valid against `schema` (e.g. "eventbridge-event"), or a
    `PayloadError` naming the size, JSON or schema problem."""
    if len(raw) > limit:
        raise PayloadError(413, "too_large", messages.TOO_LARGE.format(limit=limit))
    try:
        data = jsonbody.loads(raw)
        if jsonbody.may_hold_surrogates(raw):
            data = jsonbody.scrub(data)
    except jsonbody.BodyError as exc:
        raise PayloadError(400, "invalid_json", messages.BAD_JSON.format(error=exc)) from None
    error = best_match(schemas.validator(schema).iter_errors(data))
    if error is not None:
        path = "$" + "".join(
            f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path
        )
        raise PayloadError(
            400,
            "schema_validation",
            messages.BAD_SCHEMA.format(schema=f"{schema}.json", path=path, message=_message(error)),
            path=path,
        )
    return data


def _message(error: Any) -> str:
    # Keep the validator's wording but never repeat the offending (possibly large) value.
    text = str(error.message)
    if error.validator == "required":
        return text.split(" is a required")[0] + " is required"
    if error.validator in ("type", "pattern", "minLength", "minimum", "oneOf", "not", "enum"):
        return (
            f"fails {error.validator} {error.validator_value!r}"
            if error.validator != "oneOf"
            else "matches none of the accepted body shapes"
        )
    return text[:200]


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented credential with the configured one."""
    if not expected:
        return False
    return hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))
