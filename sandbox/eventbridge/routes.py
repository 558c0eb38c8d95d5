"""Sandbox-only admin routes of the EventBridge output (no auth):

- `GET /sandbox/eventbridge` — the destination (secrets redacted) and recent deliveries with
  their attempts and outcome (`pending`, `delivered`, `failed`, `gave-up`).
- `PUT /sandbox/eventbridge` — replace the destination; body = the `[eventbridge]` keys
  (`{"url": ""}` disables it). 400 naming the bad key, nothing changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from sandbox.config import ConfigError
from sandbox.errors import error_body

from . import messages
from .outbound import OutboundWorker
from .settings import EventBridgeSettings

bp = Blueprint("sandbox_eventbridge", __name__)


def delivery_records(worker: OutboundWorker) -> list[dict]:
    """Recent deliveries of a worker, newest last (no bodies, no headers: they hold secrets)."""
    return [{"label": d.label, "url": d.url, "outcome": d.outcome, "attempts": list(d.attempts)}
            for d in list(worker.records)]


@bp.get("/sandbox/eventbridge")
def get_destination() -> Any:
    dest = current_app.extensions["sandbox.eventbridge"]
    return jsonify({"destination": dest.settings.public(),
                    "deliveries": delivery_records(dest.worker)})


@bp.put("/sandbox/eventbridge")
def put_destination() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_body(400, "bad.request", messages.ADMIN_BAD_JSON.format(section="eventbridge"))
    try:
        settings = EventBridgeSettings.from_section(data)
    except ConfigError as exc:
        return error_body(400, "bad.request", str(exc))
    dest = current_app.extensions["sandbox.eventbridge"]
    dest.configure(settings)
    return jsonify({"destination": settings.public()})
