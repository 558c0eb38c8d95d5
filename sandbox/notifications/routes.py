"""HTTP routes of the Notifications API (docs/reference/genesys-completion-detection.md §A.1), the
channel WebSocket at `connectUri`, and the sandbox-only admin routes under `/sandbox/notifications`.

Admin routes (no auth, sandbox only; body fields optional — without `channelIds` every channel):

- `GET  /sandbox/notifications/channels` — every channel: owner, topics, connected, expires.
- `POST /sandbox/notifications/socket-closing` `{"channelIds": [...], "graceSeconds": 60}` — send
  `v2.system.socket_closing`, close the socket after the grace period.
- `POST /sandbox/notifications/drop` `{"channelIds": [...]}` — cut the TCP connections (no close
  frame).
- `POST /sandbox/notifications/expire` `{"channelIds": [...]}` — expire channels now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_sock import Sock

from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import error_body

from . import messages, topics
from .channels import Channel
from .hub import NotificationHub

bp = Blueprint("sandbox_notifications", __name__)
sock = Sock()
API = "/api/v2/notifications"


def hub() -> NotificationHub:
    return current_app.extensions["sandbox.notifications"]


def iso(ts: float) -> str:
    """Epoch seconds as Genesys's ISO-8601 with milliseconds and `Z`."""
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


def channel_json(channel: Channel, with_id: bool = True) -> dict:
    """A channel as the SDK `Channel` model (other tokens' ids hidden, as Genesys does)."""
    if not with_id:
        return {"expires": iso(channel.expires)}
    scheme = "wss" if request.scheme == "https" else "ws"
    return {
        "connectUri": f"{scheme}://{request.host}/channels/{channel.id}",
        "id": channel.id,
        "expires": iso(channel.expires),
    }


def owned_channel(channel_id: str) -> Channel | None:
    """The caller's live channel with this id (another client's channel is "not found")."""
    channel = hub().channels.get(channel_id)
    principal = g.principal
    if channel is None or channel.owner != (principal.client_id, principal.user_id or ""):
        return None
    return channel


def not_found(channel_id: str) -> Response:
    return error_body(404, "not.found", messages.CHANNEL_NOT_FOUND.format(channel_id=channel_id))


@bp.post(f"{API}/channels")
@require_auth()
def create_channel() -> Any:
    p = g.principal
    channel = hub().create_channel(p.client_id, p.user_id, p.org_id, p.token)
    return jsonify(channel_json(channel))


@bp.get(f"{API}/channels")
@require_auth()
def list_channels() -> Any:
    scope = request.args.get("includechannels", "token")
    if scope.lower() not in ("token", "oauthclient"):
        return error_body(400, "bad.request", messages.BAD_INCLUDECHANNELS.format(value=scope))
    p = g.principal
    owned = hub().channels.owned_by(p.client_id, p.user_id)
    if scope.lower() == "token":
        entities = [channel_json(c) for c in owned if c.token == p.token]
    else:
        entities = [channel_json(c, with_id=c.token == p.token) for c in owned]
    return jsonify({"entities": entities})


@bp.route(f"{API}/channels/<channel_id>", methods=["HEAD"])
@require_auth()
def head_channel(channel_id: str) -> Any:
    channel = owned_channel(channel_id)
    if channel is None:
        return Response(status=404)
    return Response(status=200)


@bp.get(f"{API}/channels/<channel_id>/subscriptions")
@require_auth()
def get_subscriptions(channel_id: str) -> Any:
    channel = owned_channel(channel_id)
    if channel is None:
        return not_found(channel_id)
    return jsonify({"entities": list(channel.topics.values())})


@bp.put(f"{API}/channels/<channel_id>/subscriptions")
@require_auth()
def put_subscriptions(channel_id: str) -> Any:
    return _subscribe(channel_id, replace=True)


@bp.post(f"{API}/channels/<channel_id>/subscriptions")
@require_auth()
def post_subscriptions(channel_id: str) -> Any:
    return _subscribe(channel_id, replace=False)


@bp.delete(f"{API}/channels/<channel_id>/subscriptions")
@require_auth()
def delete_subscriptions(channel_id: str) -> Any:
    channel = owned_channel(channel_id)
    if channel is None:
        return not_found(channel_id)
    h = hub()
    h.topics_removed(channel, h.channels.clear_topics(channel))
    h.channels.touch(channel)
    return Response(status=204)


def _subscribe(channel_id: str, replace: bool) -> Any:
    channel = owned_channel(channel_id)
    if channel is None:
        return not_found(channel_id)
    ignore = request.args.get("ignoreErrors", "false").lower()
    if ignore not in ("true", "false"):
        return error_body(400, "bad.request", messages.IGNORE_ERRORS_BAD.format(value=ignore))
    body = request.get_json(silent=True)
    if not isinstance(body, list):
        return error_body(400, "bad.request", messages.BODY_NOT_LIST)
    wanted: list[str] = []
    for index, item in enumerate(body):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            return error_body(400, "bad.request", messages.TOPIC_NOT_OBJECT.format(index=index))
        if item["id"] not in wanted:
            wanted.append(item["id"])
    p = g.principal
    entities = []
    for topic in wanted:
        try:
            entities.append(topics.check_topic(topic, p.user_id, p.has))
        except ValueError as exc:
            return error_body(400, "bad.request", str(exc), entityId=topic)
    rejected = [e for e in entities if e["state"] == "Rejected"]
    if rejected and ignore != "true":
        first = rejected[0]
        return error_body(
            403,
            "missing.permissions",
            messages.TOPIC_REJECTED.format(topic=first["id"]),
            messageParams={"permissions": ", ".join(first["missingPermissions"])},
        )
    h = hub()
    permitted = [e["id"] for e in entities if e["state"] == "Permitted"]
    total = h.channels.count_after(channel, permitted, replace)
    limit = h.settings.max_topics
    if total > limit:
        return error_body(
            400,
            "bad.request",
            messages.TOPIC_LIMIT.format(limit=limit, requested=total),
            limit={"key": "topics.per.channel", "namespace": "notifications", "value": limit},
        )
    removed = h.channels.set_topics(channel, entities, replace)
    h.topics_removed(channel, removed)
    h.channels.touch(channel, extend=True)
    listing = list(channel.topics.values()) + rejected
    return jsonify({"entities": listing})


@bp.get(f"{API}/availabletopics")
@require_auth()
def available_topics() -> Any:
    expand = {v.strip() for v in request.args.get("expand", "").split(",") if v.strip()}
    entities = topics.available_topics()
    if "schema" not in expand:
        for entity in entities:
            entity.pop("schema", None)
    else:
        for entity in entities:
            entity["schema"] = {"type": "object", "title": entity["description"]}
    return jsonify({"entities": entities})


# --- the WebSocket at connectUri -----------------------------------------------------------
@bp.before_request
def _socket_needs_channel() -> Any:
    # Refuse the upgrade itself for an unknown or expired channel, like a real 404.
    if request.endpoint == "sandbox_notifications.channel_socket":
        channel_id = (request.view_args or {}).get("channel_id", "")
        if hub().channels.get(channel_id) is None:
            return Response(messages.CHANNEL_NOT_FOUND.format(channel_id=channel_id), status=404)
    return None


@sock.route("/channels/<channel_id>", bp=bp)
def channel_socket(ws: Any, channel_id: str) -> None:
    channel = hub().channels.get(channel_id)
    if channel is not None:
        hub().serve_socket(channel, ws)


# --- admin ---------------------------------------------------------------------------------
def _admin_channel_ids() -> tuple[list[str] | None, dict] | Response:
    data = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(data, dict):
        return error_body(400, "bad.request", messages.ADMIN_BAD_JSON)
    ids = data.get("channelIds", [data["channelId"]] if "channelId" in data else None)
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        return error_body(
            400,
            "bad.request",
            messages.ADMIN_BAD_FIELD.format(field="channelIds", expected="a list of channel ids"),
        )
    return ids, data


@bp.get("/sandbox/notifications/channels")
def admin_channels() -> Any:
    return jsonify(
        {
            "entities": [
                {
                    "id": c.id,
                    "oauthClientId": c.client_id,
                    "userId": c.user_id,
                    "expires": iso(c.expires),
                    "connected": c.session is not None,
                    "topics": list(c.topics),
                }
                for c in hub().channels.all()
            ]
        }
    )


@bp.post("/sandbox/notifications/socket-closing")
def admin_socket_closing() -> Any:
    parsed = _admin_channel_ids()
    if isinstance(parsed, Response):
        return parsed
    ids, data = parsed
    grace = data.get("graceSeconds")
    if grace is not None and (
        isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0
    ):
        return error_body(
            400,
            "bad.request",
            messages.ADMIN_BAD_FIELD.format(field="graceSeconds", expected="a non-negative number"),
        )
    return jsonify({"channels": hub().socket_closing(ids, grace)})


@bp.post("/sandbox/notifications/drop")
def admin_drop() -> Any:
    parsed = _admin_channel_ids()
    if isinstance(parsed, Response):
        return parsed
    return jsonify({"channels": hub().drop(parsed[0])})


@bp.post("/sandbox/notifications/expire")
def admin_expire() -> Any:
    parsed = _admin_channel_ids()
    if isinstance(parsed, Response):
        return parsed
    return jsonify({"channels": hub().expire(parsed[0])})
