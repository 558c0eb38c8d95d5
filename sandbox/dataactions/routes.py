"""Sandbox-only admin routes of the data-action output (no auth):

- `GET /sandbox/data-action` — the action (secrets redacted) and recent calls with attempts and
  outcome.
- `PUT /sandbox/data-action` — replace it; body = the `[data_action]` keys (`{"url": ""}`
  disables). 400 naming the bad key, nothing changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from sandbox.config import ConfigError
from sandbox.errors import error_body
from sandbox.eventbridge import messages
from sandbox.eventbridge.routes import delivery_records

from .settings import DataActionSettings

bp = Blueprint("sandbox_data_action", __name__)


@bp.get("/sandbox/data-action")
def get_action() -> Any:
    caller = current_app.extensions["sandbox.data_action"]
    return jsonify({"action": caller.settings.public(),
                    "deliveries": delivery_records(caller.worker)})


@bp.put("/sandbox/data-action")
def put_action() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_body(400, "bad.request", messages.ADMIN_BAD_JSON.format(section="data_action"))
    try:
        settings = DataActionSettings.from_section(data)
    except ConfigError as exc:
        return error_body(400, "bad.request", str(exc))
    caller = current_app.extensions["sandbox.data_action"]
    caller.configure(settings)
    return jsonify({"action": settings.public()})
