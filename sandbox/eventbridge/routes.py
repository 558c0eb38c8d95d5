"""Sandbox-only admin routes of the EventBridge output (no auth):

- `GET /sandbox/eventbridge` — the destination (secrets redacted) and recent deliveries with
  their attempts and outcome (`pending`, `delivered`, `failed`, `gave-up`).
- `PUT /sandbox/eventbridge` — replace the destination; body = the `[eventbridge]` keys
  (`{"url": ""}` disables it). 400 naming the bad key, nothing changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from om_bridge.sandbox.config import ConfigError
from om_bridge.sandbox.errors import error_body

from . import messages
from .outbound import OutboundWorker
from .settings import EventBridgeSettings

bp = Blueprint("sandbox_eventbridge", __name__)


def delivery_records(worker: OutboundWorker) -> list[dict]:
    """Recent deliveries of a worker, newest last (no bodies, no headers: they hold secrets)."""
    return [
        {"label": d.label, "url": d.url, "outcome": d.outcome, "attempts": list(d.attempts)}
        for d in list(worker.records)
    ]


def admin_routes(
    bp: Blueprint, path: str, extension: str, settings_type: Any, section: str, field: str
) -> None:
    """GET (settings, secrets redacted, + recent deliveries) and PUT (replace the settings from a
    config-section body; 400 naming the bad key, nothing changed) for one outbound destination."""

    def get_settings() -> Any:
        target = current_app.extensions[extension]
        return jsonify(
            {field: target.settings.public(), "deliveries": delivery_records(target.worker)}
        )

    def put_settings() -> Any:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return error_body(400, "bad.request", messages.ADMIN_BAD_JSON.format(section=section))
        try:
            settings = settings_type.from_section(data)
        except ConfigError as exc:
            return error_body(400, "bad.request", str(exc))
        current_app.extensions[extension].configure(settings)
        return jsonify({field: settings.public()})

    bp.add_url_rule(path, f"get_{field}", get_settings, methods=["GET"])
    bp.add_url_rule(path, f"put_{field}", put_settings, methods=["PUT"])


admin_routes(
    bp,
    "/sandbox/eventbridge",
    "sandbox.eventbridge",
    EventBridgeSettings,
    "eventbridge",
    "destination",
)
