"""Sandbox-only admin routes of the data-action output (no auth):

- `GET /sandbox/data-action` — the action (secrets redacted) and recent calls with attempts and
  outcome.
- `PUT /sandbox/data-action` — replace it; body = the `[data_action]` keys (`{"url": ""}`
  disables). 400 naming the bad key, nothing changed.
"""

from __future__ import annotations

from flask import Blueprint

from om_bridge.sandbox.eventbridge.routes import admin_routes

from .settings import DataActionSettings

bp = Blueprint("sandbox_data_action", __name__)
admin_routes(
    bp, "/sandbox/data-action", "sandbox.data_action", DataActionSettings, "data_action", "action"
)
