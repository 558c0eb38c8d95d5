"""Login host: `POST /oauth/token` with client credentials (Basic auth) or the password grant for
seeded users through an OAuth client that allows it. Errors use the OAuth shape of docs/reference/genesys-open-messaging.md §1.3."""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages

bp = Blueprint("sandbox_oauth", __name__)


def _oauth_error(status: int, error: str, description: str) -> Response:
    resp = jsonify({"error": error, "description": description, "error_description": description})
    resp.status_code = status
    return resp


def _client_credentials() -> tuple[str, str] | None:
    """(client_id, secret) from Basic auth, else from the form (`client_id`/`client_secret`)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        cid, sep, secret = decoded.partition(":")
        return (cid, secret) if sep else None
    if "client_id" in request.form:
        return request.form.get("client_id", ""), request.form.get("client_secret", "")
    return None


@bp.post("/oauth/token")
def token() -> ResponseReturnValue:
    """Issue a bearer token: `{access_token, token_type: "bearer", expires_in}`."""
    sandbox = current_app.extensions["sandbox"]
    store = sandbox.store
    creds = _client_credentials()
    if creds is None:
        return _oauth_error(401, "invalid_client", messages.OAUTH_AUTH_FAILED)
    client_id, secret = creds
    client = store.clients.get(client_id)
    if client is None:
        return _oauth_error(400, "invalid_client", messages.OAUTH_CLIENT_NOT_FOUND)
    if not hmac.compare_digest(client["secret"].encode(), secret.encode()):
        return _oauth_error(401, "invalid_client", messages.OAUTH_AUTH_FAILED)
    grant = request.form.get("grant_type", "")
    if not grant:
        return _oauth_error(400, "invalid_request", messages.OAUTH_MISSING_GRANT)
    if grant not in ("client_credentials", "password"):
        return _oauth_error(400, "unsupported_grant_type", messages.OAUTH_UNSUPPORTED_GRANT)
    if grant not in client.get("grants", ["client_credentials"]):
        return _oauth_error(400, "unauthorized_client", messages.OAUTH_GRANT_NOT_ALLOWED)
    expires_in = int(client.get("expires_in", sandbox.config.expires_in))
    if grant == "client_credentials":
        principal = sandbox.tokens.issue(
            client_id,
            None,
            sandbox.org_id,
            store.permissions_of(client.get("roles", [])),
            expires_in,
            grant,
        )
    else:
        user = store.user_by_username(request.form.get("username", ""))
        password = request.form.get("password", "")
        if user is None or not hmac.compare_digest(
            user.get("password", "").encode(), password.encode()
        ):
            return _oauth_error(400, "invalid_grant", messages.OAUTH_BAD_USER)
        principal = sandbox.tokens.issue(
            client_id,
            user["id"],
            sandbox.org_id,
            store.permissions_of(user.get("roles", [])),
            expires_in,
            grant,
        )
    return jsonify(
        {"access_token": principal.token, "token_type": "bearer", "expires_in": expires_in}
    )


def init_app(app: Flask) -> None:
    """Register the login routes."""
    app.register_blueprint(bp)
