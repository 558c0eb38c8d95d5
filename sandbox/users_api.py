"""Users API (docs/reference/genesys-open-messaging.md §9.4): users with name and `images`, `/users/me` for user tokens, agent
routing status, and the avatar images themselves (generated SVGs served by the sandbox, so nothing
needs the internet)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages, seed
from om_bridge.sandbox.apiutil import BadRequest, handles_errors, json_body, paged, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import EngineError, error_body

bp = Blueprint("sandbox_users", __name__)
RESOLUTIONS = {"x48": 48, "x96": 96, "x128": 128, "x200": 200, "x300": 300}


def _base() -> str:
    return sandbox().base_url or request.host_url.rstrip("/")


def user_view(user: dict) -> dict:
    """`User` JSON of a seeded user."""
    uid = user["id"]
    return {
        "id": uid,
        "name": user.get("name"),
        "division": seed.home_division(),
        "department": user.get("department"),
        "email": user.get("email"),
        "state": "active",
        "title": user.get("title"),
        "username": user.get("username"),
        "images": [
            {"resolution": r, "imageUri": f"{_base()}/sandbox/avatars/{uid}/{r}.svg"}
            for r in RESOLUTIONS
        ],
        "version": 1,
        "preferredName": user.get("preferred_name", user.get("name")),
        "acdAutoAnswer": False,
        "selfUri": f"/api/v2/users/{uid}",
    }


def _user(user_id: str) -> dict:
    user = sandbox().store.users.get(user_id)
    if user is None:
        raise EngineError(
            404, "not.found", messages.NOT_FOUND_ENTITY.format(kind="User", id=user_id)
        )
    return user


@bp.get("/api/v2/users/me")
@require_auth(user=True)
def me() -> ResponseReturnValue:
    user = sandbox().store.users[g.principal.user_id]
    out = user_view(user)
    out["organization"] = {
        "id": sandbox().org_id,
        "name": sandbox().store.org.get("name"),
        "selfUri": f"/api/v2/organizations/{sandbox().org_id}",
    }
    out["routingStatus"] = _status(user)
    return jsonify(out)


@bp.get("/api/v2/users")
@require_auth("directory:user:view")
@handles_errors
def list_users() -> ResponseReturnValue:
    users = sorted(sandbox().store.users.values(), key=lambda u: u.get("name", ""))
    ids = request.args.get("id")
    if ids:
        wanted = set(ids.split(","))
        users = [u for u in users if u["id"] in wanted]
    return paged([user_view(u) for u in users], "/api/v2/users")


@bp.get("/api/v2/users/<user_id>")
@require_auth("directory:user:view")
@handles_errors
def get_user(user_id: str) -> ResponseReturnValue:
    return jsonify(user_view(_user(user_id)))


def _status(user: dict) -> dict:
    return {
        "userId": user["id"],
        "status": user.get("routing_status", "OFF_QUEUE"),
        "startTime": user.get("status_time"),
    }


@bp.get("/api/v2/users/<user_id>/routingstatus")
@require_auth("directory:user:view", "routing:agent:manage", any_of=True)
@handles_errors
def get_routing_status(user_id: str) -> ResponseReturnValue:
    return jsonify(_status(_user(user_id)))


@bp.put("/api/v2/users/<user_id>/routingstatus")
@require_auth()
@handles_errors
def put_routing_status(user_id: str) -> ResponseReturnValue:
    """Go on queue (`IDLE`) or off queue (`OFF_QUEUE`): the user itself or `routing:agent:manage`."""
    _user(user_id)
    if g.principal.user_id != user_id and not g.principal.has("routing:agent:manage"):
        return error_body(
            403,
            "missing.permissions",
            messages.MISSING_PERMISSIONS.format(perms="[routing:agent:manage]"),
            messageParams={"permissions": "routing:agent:manage"},
        )
    status = json_body().get("status")
    if not isinstance(status, str):
        raise BadRequest("status is required")
    user = sandbox().engine.set_routing_status(user_id, status)
    return jsonify(_status(user))


def _initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    return "".join(p[0].upper() for p in parts[:2]) or "?"


@bp.get("/sandbox/avatars/<user_id>/<resolution>.svg")
def avatar(user_id: str, resolution: str) -> ResponseReturnValue:
    """A generated avatar: the user's initials on their colour (public, like Genesys' image CDN)."""
    user = sandbox().store.users.get(user_id)
    size = RESOLUTIONS.get(resolution)
    if user is None or size is None:
        return error_body(404, "not.found")
    color = str(user.get("color", "#607d8b"))
    if not (
        color.startswith("#")
        and len(color) in (4, 7)
        and all(c in "0123456789abcdefABCDEF" for c in color[1:])
    ):
        color = "#607d8b"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 100 100"><circle cx="50" cy="50" r="50" fill="{color}"/>'
        f'<text x="50" y="50" dy=".35em" text-anchor="middle" font-family="sans-serif" '
        f'font-size="40" fill="#fff">{_initials(user.get("name", ""))}</text></svg>'
    )
    resp = Response(svg, mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def init_app(app: Flask) -> None:
    """Register the users routes."""
    app.register_blueprint(bp)
