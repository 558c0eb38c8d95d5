"""Permission probes: one cheap call per permission the bridge needs, read from Genesys' answer.

Each probe makes a call whose only possible effect is a read, and states which answer proves the
permission. Genesys authorises a request before it validates the body or looks up the entity, so a
400 or 404 behind the permission check proves the permission as well as a 200 does; a 403
`missing.permissions` names what is missing.

- messaging:integration:view — `GET …/messaging/integrations/open?pageSize=1` → 200.
  The bridge turns the deployment name into the integration id.
- conversation:message:create — `POST …/messages/{integrationId}/inbound/open/message` `{}` → 400.
  Customer messages, typing events and receipts.
- conversation:message:view — `GET /api/v2/conversations/messages/{nil id}` → 404.
  End detection: the transfer check and the reconciliation after a listener gap.
- directory:user:view — `GET /api/v2/users?pageSize=1` → 200.
  The agent's name and avatar (Display Agent Details); optional, so only a WARN when missing.

The inbound probe's body is empty on purpose: it fails schema validation after the permission check,
so no conversation is ever created. The notifications permission is proven by the completion step,
which creates the channel the listener would use (only for completion = "notifications").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from om_bridge.bridge.genesys import GenesysClient, GenesysError, PermissionDeniedError
from om_bridge.bridge.setup import messages
from om_bridge.bridge.setup.steps import FAIL, PASS, WARN

NIL_ID = "00000000-0000-0000-0000-000000000000"
INTEGRATIONS = "/api/v2/conversations/messaging/integrations/open"


@dataclass(frozen=True, slots=True)
class Probe:
    """One permission and the call that proves it; `effect` is set for optional permissions."""

    permission: str
    purpose: str
    method: str
    path: Callable[[str | None], str]  # integration id (or None) → path
    proves: tuple[int, ...]
    params: dict | None = None
    body: Any = None
    effect: str | None = None


PROBES: tuple[Probe, ...] = (
    Probe(
        "messaging:integration:view",
        "find the integration by Deployment Name",
        "GET",
        lambda _i: INTEGRATIONS,
        (200,),
        params={"pageSize": 1, "pageNumber": 1},
    ),
    Probe(
        "conversation:message:create",
        "send customer messages, typing and receipts",
        "POST",
        lambda i: f"/api/v2/conversations/messages/{i or NIL_ID}/inbound/open/message",
        (400, 404),
        body={},
    ),
    Probe(
        "conversation:message:view",
        "look up a conversation to confirm its end",
        "GET",
        lambda _i: f"/api/v2/conversations/messages/{NIL_ID}",
        (404,),
    ),
    Probe(
        "directory:user:view",
        "show the agent's name and avatar",
        "GET",
        lambda _i: "/api/v2/users",
        (200,),
        params={"pageSize": 1, "pageNumber": 1},
        effect="Display Agent Details shows no agent name or avatar",
    ),
)


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What one probe found: status PASS/FAIL/WARN, a detail line and the missing permissions."""

    probe: Probe
    status: str
    detail: str
    missing: tuple[str, ...] = ()


def run_probe(client: GenesysClient, probe: Probe, integration_id: str | None) -> ProbeOutcome:
    """Make the probe's call once and classify the answer."""
    path = probe.path(integration_id)
    shown = path.replace(integration_id, "{integrationId}") if integration_id else path
    try:
        client.request(probe.method, path, params=probe.params, json_body=probe.body)
        status: int = 200
    except PermissionDeniedError as err:
        missing = tuple(err.missing_permissions) or (probe.permission,)
        names = "" if missing == (probe.permission,) else " " + ", ".join(missing)
        detail = messages.PERM_MISSING.format(
            names=names, purpose=probe.purpose, method=probe.method, path=shown, code=err.code or ""
        )
        if probe.effect:
            detail += messages.PERM_OPTIONAL.format(effect=probe.effect)
        return ProbeOutcome(probe, WARN if probe.effect else FAIL, detail.rstrip(), missing)
    except GenesysError as err:
        if err.status is None or err.status not in probe.proves:
            if err.status is not None and 400 <= err.status < 500 and err.status != 429:
                return ProbeOutcome(
                    probe,
                    WARN,
                    messages.PERM_UNEXPECTED.format(
                        method=probe.method,
                        path=shown,
                        status=err.status,
                        expected=" or ".join(map(str, probe.proves)),
                    ),
                )
            return ProbeOutcome(probe, WARN, messages.PERM_UNPROBED.format(error=err))
        status = err.status
    return ProbeOutcome(
        probe,
        PASS,
        messages.PERM_OK.format(
            purpose=probe.purpose, method=probe.method, path=shown, status=status
        ),
    )


def run_probes(client: GenesysClient, integration_id: str | None) -> list[ProbeOutcome]:
    """Every probe, in the table's order."""
    return [run_probe(client, probe, integration_id) for probe in PROBES]
