"""The signed round-trip: sign an outbound webhook as Genesys would and have the bridge verify it.

The body is signed with the integration's secret when Genesys returned it (otherwise with
webhook_secret) and first verified locally with the bridge's own verifier and webhook_secret. Then
it is posted to the running bridge at public_url + /handover/genesysCloudOM: the bridge answers 401
when no configured secret verifies it. The body is a typing event for a customer no handover has,
so a bridge that accepts it changes nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import requests

from om_bridge.bridge.genesys.signature import HEADER, compute_signature, verify_signature
from om_bridge.bridge.setup import messages as m
from om_bridge.bridge.setup.context import Target
from om_bridge.bridge.setup.steps import StepLog

CHECK_CUSTOMER = "om-bridge-check"
TIMEOUT = (3.05, 10.0)


def probe_body(integration_id: str | None, integration_name: str | None) -> bytes:
    """A compact Open Messaging typing event from the integration to a customer with no handover."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    iid = integration_id or str(uuid.UUID(int=0))
    body = {
        "id": f"om-bridge-check-{uuid.uuid4()}",
        "channel": {
            "id": iid,
            "platform": "Open",
            "type": "Private",
            "to": {"id": CHECK_CUSTOMER, "idType": "Opaque"},
            "from": {
                "nickname": integration_name or "om-bridge check",
                "id": iid,
                "idType": "Opaque",
            },
            "time": now,
        },
        "type": "Event",
        "events": [{"eventType": "Typing", "typing": {"type": "On"}}],
        "direction": "Outbound",
    }
    # Genesys sends compact JSON and signs exactly the bytes it sends.
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def check_roundtrip(
    target: Target, integ: dict | None, signing_secret: str | None, log: StepLog
) -> None:
    """Sign with `signing_secret` (the integration's, else None → webhook_secret), verify locally,
    then post to the running bridge."""
    configured = target.webhook_secret
    if not configured:
        log.warned(m.T_ROUNDTRIP, m.RT_NO_SECRET, m.SECRET_MISSING_FIX, m.SEED_PROVIDER)
        return
    which = m.WHICH_INTEGRATION if signing_secret else m.WHICH_CONFIGURED
    secret = signing_secret or configured
    body = probe_body((integ or {}).get("id"), (integ or {}).get("name"))
    signature = compute_signature(secret, body)
    local_ok = verify_signature(configured, body, signature)
    url = target.webhook_url
    if url is None:
        log.failed(m.T_ROUNDTRIP, m.URL_NO_PUBLIC, m.URL_NO_PUBLIC_FIX, m.SEED_PLATFORM)
        return
    try:
        response = requests.post(
            url,
            data=body,
            timeout=TIMEOUT,
            allow_redirects=False,
            headers={"Content-Type": "application/json", HEADER: signature},
        )
    except requests.RequestException as exc:
        if local_ok:
            log.warned(
                m.T_ROUNDTRIP,
                m.RT_UNREACHABLE.format(url=url, error=type(exc).__name__),
                m.RT_UNREACHABLE_FIX,
                m.SEED_PLATFORM,
            )
        else:
            log.failed(
                m.T_ROUNDTRIP,
                m.RT_LOCAL_FAILED.format(which=which),
                m.RT_REJECTED_FIX,
                m.SEED_PROVIDER,
            )
        return
    status = response.status_code
    if status in (401, 403):
        log.failed(
            m.T_ROUNDTRIP,
            m.RT_REJECTED.format(url=url, which=which, status=status),
            m.RT_REJECTED_FIX,
            m.SEED_PROVIDER,
        )
    elif status in (404, 405) or 300 <= status < 400:
        log.failed(
            m.T_ROUNDTRIP,
            m.RT_NOT_FOUND.format(url=url, status=status),
            m.RT_NOT_FOUND_FIX,
            m.SEED_PLATFORM,
        )
    elif status >= 500:
        log.warned(
            m.T_ROUNDTRIP,
            m.RT_SERVER_ERROR.format(url=url, status=status),
            m.RT_SERVER_ERROR_FIX,
            None,
        )
    elif not local_ok:
        # The running bridge accepted what this configuration would reject: it runs another one.
        log.failed(
            m.T_ROUNDTRIP,
            m.RT_LOCAL_FAILED.format(which=which) + m.RT_STALE,
            m.RT_REJECTED_FIX,
            m.SEED_PROVIDER,
        )
    else:
        log.passed(m.T_ROUNDTRIP, m.RT_OK.format(url=url, which=which, status=status))
