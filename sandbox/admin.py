"""Sandbox-only admin routes (no Genesys equivalent, no auth): fault injection and the rate limit.

- `GET /sandbox/faults` → `{"faults": [...]}`; `POST /sandbox/faults` with a fault object
  (`target`, `mode`, `status`, `retry_after`, `delay`, `count`, `path`, `method`) → 201 with its id;
  `DELETE /sandbox/faults[?target=T]` clears; `DELETE /sandbox/faults/<id>` removes one.
- `GET/PUT /sandbox/rate-limit` `{"perMinute": N}` (0 disables).
- `POST /sandbox/conversations/<id>/bot-messages` `{"text", "quickReplies": [..]}`: a Bot message
  from the conversation's flow (Structured with QuickReply content when `quickReplies` is given),
  as an Architect in-queue flow would send → 202 with its `MessageData`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages
from om_bridge.sandbox.errors import EngineError, error_body
from om_bridge.sandbox.faults import Fault, FaultError

bp = Blueprint("sandbox_admin", __name__, url_prefix="/sandbox")


def _sandbox() -> Any:
    return current_app.extensions["sandbox"]


@bp.get("/faults")
def list_faults() -> ResponseReturnValue:
    return jsonify({"faults": [f.to_dict() for f in _sandbox().faults.list()]})


@bp.post("/faults")
def add_fault() -> ResponseReturnValue:
    try:
        fault = _sandbox().faults.add(Fault.from_dict(request.get_json(silent=True)))
    except FaultError as exc:
        return error_body(400, "bad.request", str(exc))
    resp = jsonify(fault.to_dict())
    resp.status_code = 201
    return resp


@bp.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    _sandbox().faults.clear(request.args.get("target"))
    return "", 204


@bp.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> ResponseReturnValue:
    if not _sandbox().faults.remove(fault_id):
        return error_body(404, "not.found", messages.ADMIN_FAULT_NOT_FOUND.format(id=fault_id))
    return "", 204


@bp.get("/rate-limit")
def get_rate_limit() -> ResponseReturnValue:
    return jsonify({"perMinute": _sandbox().rate_limiter.per_minute})


@bp.put("/rate-limit")
def put_rate_limit() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    value = body.get("perMinute") if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return error_body(400, "bad.request", messages.RATE_LIMIT_BAD)
    _sandbox().rate_limiter.set_limit(value)
    return jsonify({"perMinute": value})


@bp.post("/conversations/<cid>/bot-messages")
def bot_message(cid: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    replies = body.get("quickReplies", []) if isinstance(body, dict) else None
    if (
        not isinstance(text, str)
        or not text
        or not isinstance(replies, list)
        or not all(isinstance(r, str) and r for r in replies)
    ):
        return error_body(400, "bad.request", messages.BOT_MESSAGE_BAD)
    try:
        record = _sandbox().engine.flow_message(cid, text, replies)
    except EngineError as exc:
        return error_body(exc.status, exc.code, exc.message)
    resp = jsonify(record.to_message_data())
    resp.status_code = 202
    return resp


def init_app(app: Flask) -> None:
    """Register the admin routes."""
    app.register_blueprint(bp)
