"""Routing API: queues (`GET /api/v2/routing/queues`, `/{id}`), with member counts from the seed,
and message routing recipients (`GET /api/v2/routing/message/recipients/{id}`: which inbound message
flow an Open Messaging integration is attached to)."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages, seed
from om_bridge.sandbox.apiutil import handles_errors, paged, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import error_body

bp = Blueprint("sandbox_routing", __name__)


def queue_view(queue: dict) -> dict:
    """`Queue` JSON."""
    users = sandbox().store.users.values()
    members = sum(1 for u in users if queue["id"] in u.get("queues", []))
    joined = sum(
        1
        for u in users
        if queue["id"] in u.get("queues", []) and u.get("routing_status") != "OFF_QUEUE"
    )
    return {
        "id": queue["id"],
        "name": queue.get("name"),
        "division": seed.home_division(),
        "description": queue.get("description", ""),
        "memberCount": members,
        "userMemberCount": members,
        "joinedMemberCount": joined,
        "scoringMethod": "TimestampAndPriority",
        "enableManualAssignment": False,
        "selfUri": f"/api/v2/routing/queues/{queue['id']}",
    }


@bp.get("/api/v2/routing/queues")
@require_auth("routing:queue:view")
@handles_errors
def list_queues() -> ResponseReturnValue:
    queues = sorted(sandbox().store.queues.values(), key=lambda q: q.get("name", ""))
    name = request.args.get("name")
    if name:
        # Genesys matches the name filter as a case-insensitive prefix ("*" wildcards allowed)
        prefix = name.rstrip("*").lower()
        queues = [q for q in queues if q.get("name", "").lower().startswith(prefix)]
    ids = request.args.getlist("id")
    if ids:
        queues = [q for q in queues if q["id"] in ids]
    return paged([queue_view(q) for q in queues], "/api/v2/routing/queues", {"name": name})


@bp.get("/api/v2/routing/queues/<queue_id>")
@require_auth("routing:queue:view")
def get_queue(queue_id: str) -> ResponseReturnValue:
    queue = sandbox().store.queues.get(queue_id)
    if queue is None:
        return error_body(
            404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Queue", id=queue_id)
        )
    return jsonify(queue_view(queue))


@bp.get("/api/v2/routing/message/recipients/<recipient_id>")
@require_auth("routing:message:manage")
def get_message_recipient(recipient_id: str) -> ResponseReturnValue:
    """`Recipient`: an integration's routing address; `flow` only when a flow is attached."""
    store = sandbox().store
    with store.lock:
        # The sandbox's recipient id is the integration id (see integrations.integration_view).
        integ = store.integrations.get(recipient_id)
        if integ is None:
            return error_body(
                404,
                "not.found",
                messages.NOT_FOUND_ENTITY.format(kind="Recipient", id=recipient_id),
            )
        flow = store.integration_flow(integ)
        body = {
            "id": integ["id"],
            "name": integ["name"],
            "messengerType": "open",
            "dateCreated": integ.get("dateCreated"),
            "dateModified": integ.get("dateModified"),
            "selfUri": f"/api/v2/routing/message/recipients/{integ['id']}",
        }
    if flow is not None:
        body["flow"] = {
            "id": flow["id"],
            "name": flow.get("name"),
            "selfUri": f"/api/v2/flows/{flow['id']}",
        }
    return jsonify({k: v for k, v in body.items() if v is not None})


def init_app(app: Flask) -> None:
    """Register the routing routes."""
    app.register_blueprint(bp)
