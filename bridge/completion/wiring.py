"""Is the configured completion mode wired? One check list per provider for `om-bridge check`
(callable without a Flask app: `wiring_status(config, flags, provider_id, client)`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import websocket

from . import messages
from .dataaction import credential_header, reveal

MODES = ("eventbridge", "webhook", "notifications")


@dataclass(frozen=True)
class WiringCheck:
    """One verdict: `name` of the step, `ok`, what was found (`detail`) and how to fix it (`fix`,
    None when ok). `warn` marks a check that is not a failure but worth a look."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warn: bool = False
    # The setup step (docs/genesys-setup.md) where the fix is made, when not the completion
    # prerequisites (e.g. "5. Configure Credentials").
    seed_step: str | None = None


def wiring_status(
    config: Any, flags: Any, provider_id: str, client: Any = None, *, socket_timeout: float = 5.0
) -> list[WiringCheck]:
    """Checks for the provider's completion mode; `client` (a GenesysClient) is needed for the
    notifications mode, which really creates a channel and opens its WebSocket."""
    provider = config.provider(provider_id)
    mode = provider.completion_mode
    if mode not in MODES:
        return [
            WiringCheck(
                messages.W_MODE,
                False,
                messages.W_MODE_UNKNOWN.format(mode=mode),
                messages.W_FIX_MODE,
            )
        ]
    checks = [WiringCheck(messages.W_MODE, True, messages.W_MODE_OK.format(mode=mode))]
    if mode == "eventbridge":
        checks.extend(_eventbridge(provider, flags))
    elif mode == "webhook":
        checks.extend(_webhook(provider, flags))
    else:
        checks.extend(_notifications(client, socket_timeout))
    return checks


def _eventbridge(provider: Any, flags: Any) -> list[WiringCheck]:
    out = []
    if flags.use_http_end_handover_request:
        out.append(WiringCheck(messages.W_EB_FLAG, True, messages.W_OK_FLAG))
    else:
        out.append(WiringCheck(messages.W_EB_FLAG, False, messages.FLAG_OFF, messages.W_FIX_FLAG))
    key = reveal(flags.eventbridge_api_key)
    if key:
        out.append(WiringCheck(messages.W_EB_KEY, True, messages.W_OK_KEY.format(length=len(key))))
    else:
        out.append(WiringCheck(messages.W_EB_KEY, False, messages.W_BAD_KEY, messages.W_FIX_KEY))
    if flags.skip_eventbridge_organization_id_check:
        out.append(WiringCheck(messages.W_EB_ORG, True, messages.W_ORG_SKIPPED))
    elif provider.organization_id:
        out.append(
            WiringCheck(
                messages.W_EB_ORG, True, messages.W_ORG_SET.format(org=provider.organization_id)
            )
        )
    else:
        out.append(
            WiringCheck(
                messages.W_EB_ORG, True, messages.W_ORG_UNSET, messages.W_FIX_ORG, warn=True
            )
        )
    return out


def _webhook(provider: Any, flags: Any) -> list[WiringCheck]:
    auth = provider.data_action_auth
    if credential_header(auth) is not None:
        first = WiringCheck(messages.W_DA_AUTH, True, messages.W_DA_OK.format(type=auth.type))
    else:
        # Cognigy's data action carries no credential: the bridge checks each request with
        # Genesys before ending anything (docs/design.md §7), so this works, one REST call dearer.
        first = WiringCheck(messages.W_DA_AUTH, True, messages.W_DA_MISSING)
    grace = WiringCheck(
        messages.W_DA_TIMEOUT,
        True,
        messages.W_DA_TIMEOUT_OK.format(ms=flags.acw_after_transfer_timeout_ms),
    )
    return [first, grace]


def _notifications(client: Any, timeout: float) -> list[WiringCheck]:
    if client is None:
        return [
            WiringCheck(
                messages.W_NOTIF_CHANNEL,
                False,
                messages.W_NOTIF_FAILED.format(error="no Genesys client"),
                messages.W_FIX_NOTIF,
                seed_step=messages.SEED_CREDENTIALS,
            )
        ]
    try:
        channel = client.create_channel()
    except Exception as exc:
        return [
            WiringCheck(
                messages.W_NOTIF_CHANNEL,
                False,
                messages.W_NOTIF_FAILED.format(error=exc),
                messages.W_FIX_NOTIF,
                seed_step=messages.SEED_CREDENTIALS,
            )
        ]
    checks = [
        WiringCheck(
            messages.W_NOTIF_CHANNEL, True, messages.W_NOTIF_OK.format(channel=channel.get("id"))
        )
    ]
    uri = channel.get("connectUri", "")
    error = _probe_socket(uri, timeout)
    if error is None:
        checks.append(
            WiringCheck(messages.W_NOTIF_SOCKET, True, messages.W_SOCKET_OK.format(uri=uri))
        )
    else:
        checks.append(
            WiringCheck(
                messages.W_NOTIF_SOCKET,
                False,
                messages.W_SOCKET_FAILED.format(uri=uri, error=error),
                messages.W_FIX_SOCKET,
            )
        )
    return checks


def _probe_socket(uri: str, timeout: float) -> str | None:
    """Open and close the channel's WebSocket; None when it connected."""
    result: dict[str, str | None] = {"error": "timed out"}
    done = threading.Event()

    def probe() -> None:
        try:
            ws = websocket.create_connection(uri, timeout=timeout)
            ws.close()
            result["error"] = None
        except Exception as exc:
            result["error"] = type(exc).__name__
        done.set()

    threading.Thread(target=probe, daemon=True, name="notifications-probe").start()
    done.wait(timeout + 1)
    return result["error"]
