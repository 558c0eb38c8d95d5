"""Routing API: queues (`GET /api/v2/routing/queues`, `/{id}`), with member counts from the seed."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from sandbox import messages
from sandbox.apiutil import handles_errors, paged, sandbox
from sandbox.auth import require_auth
from sandbox.errors import error_body

bp = Blueprint("sandbox_routing", __name__)


def queue_view(queue: dict) -> dict:
    """`Queue` JSON."""
    users = sandbox().store.users.values()
    members = sum(1 for u in users if queue["id"] in u.get("queues", []))
    joined = sum(1 for u in users if queue["id"] in u.get("queues", [])
                 and u.get("routing_status") != "OFF_QUEUE")
    return {"id": queue["id"], "name": queue.get("name"),
            "division": {"id": "home", "name": "Home",
                         "selfUri": "/api/v2/authorization/divisions/home"},
            "description": queue.get("description", ""), "memberCount": members,
            "userMemberCount": members, "joinedMemberCount": joined,
            "scoringMethod": "TimestampAndPriority", "enableManualAssignment": False,
            "selfUri": f"/api/v2/routing/queues/{queue['id']}"}


@bp.get("/api/v2/routing/queues")
@require_auth("routing:queue:view")
@handles_errors
def list_queues():  # type: ignore[no-untyped-def]
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
def get_queue(queue_id: str):  # type: ignore[no-untyped-def]
    queue = sandbox().store.queues.get(queue_id)
    if queue is None:
        return error_body(404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="Queue", id=queue_id))
    return jsonify(queue_view(queue))


def init_app(app: Flask) -> None:
    """Register the routing routes."""
    app.register_blueprint(bp)
