"""Data-action end requests on `POST /handover/genesysCloudOM` (the webhook route hands unsigned
requests here): Genesys Trigger → Architect workflow → Web Services Data Action
(docs/reference/genesys-completion-detection.md §C).

A request carrying a provider's `data_action_auth` credential (Basic, or a named header, compared
in constant time before the body is parsed) is authoritative for that provider's handovers. A
request without one, as Cognigy's guide sets the data action up, is a request to check: the
handover ends only once Genesys' REST API shows the customer left (docs/design.md §7)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from . import messages, payloads
from .dispatcher import FAILED
from .translate import from_data_action

log = logging.getLogger(__name__)


def _value(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def reveal(value: Any) -> str:
    """The plain text of a `Secret` (or str); "" for None."""
    if value is None:
        return ""
    return value.reveal() if hasattr(value, "reveal") else str(value)


def credential_header(auth: Any) -> tuple[str, str] | None:
    """(header name, expected value) of a provider's `data_action_auth`, None when unusable."""
    kind = (_value(auth, "type") or "").lower()
    if kind == "basic":
        user = reveal(_value(auth, "username"))
        if not user:
            return None
        token = base64.b64encode(f"{user}:{reveal(_value(auth, 'password'))}".encode()).decode()
        return "Authorization", f"Basic {token}"
    if kind == "header":
        name = reveal(_value(auth, "name")) or reveal(_value(auth, "header"))
        value = reveal(_value(auth, "value"))
        if name and value:
            return name, value
    return None


class HeaderLookup(Protocol):
    """Request headers by name: a Mapping, or werkzeug's (case-insensitive) `Headers`."""

    def get(self, key: str, /) -> str | None: ...


def matching_providers(
    providers: Mapping[str, Any], headers: HeaderLookup
) -> tuple[bool, set[str]]:
    """(any credential configured, providers whose credential the request carries). Every
    configured credential is compared, so the time taken does not depend on which one matched."""
    configured, matched = False, set()
    for provider_id, provider in providers.items():
        expected = credential_header(_value(provider, "data_action_auth"))
        if expected is None:
            continue
        configured = True
        name, value = expected
        if payloads.same_secret(headers.get(name), value):
            matched.add(provider_id)
    return configured, matched


def presents_credential(providers: Mapping[str, Any], headers: HeaderLookup) -> bool:
    """Whether the request carries a header some provider's credential uses (any value)."""
    for provider in providers.values():
        expected = credential_header(_value(provider, "data_action_auth"))
        if expected is not None and headers.get(expected[0]):
            return True
    return False


def handle(service: Any, headers: HeaderLookup, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Authenticate, validate, translate and dispatch one data-action request."""
    configured, providers = matching_providers(service.providers(), headers)
    if configured and not providers and presents_credential(service.providers(), headers):
        # A credential was sent and is wrong: a misconfigured data action, worth a clear 401.
        log.warning(messages.LOG_REJECTED, "data-action", "bad credential")
        return 401, {"error": "unauthorized", "message": messages.DATA_ACTION_BAD_CREDENTIAL}
    # Without a credential (Cognigy's data action sends none) the request only asks the bridge
    # to check: nothing ends before Genesys' REST API confirms the end, so a forged request can
    # end nothing. A credential makes the request authoritative for its providers.
    check_only = not providers
    try:
        body = payloads.parse(raw, "data-action")
    except payloads.PayloadError as exc:
        log.info(messages.LOG_REJECTED, "data-action", exc.code)
        return exc.status, exc.body
    event = from_data_action(body)
    if event is None:
        return 200, {"status": "ignored", "reason": "topic not used for completion"}
    decision = service.dispatch(event, None if check_only else providers, check_only=check_only)
    if decision.action == FAILED:
        return 500, {"error": "end_failed", "message": decision.reason}
    return 200, {"status": decision.action, "reason": decision.reason}
