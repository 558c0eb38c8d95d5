"""The webchat page (`GET /`): a small vanilla-JS client of the endpoint routes, for the demo and for trying a flow."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from om_bridge.bridge.endpoint import messages

# The page, its script and stylesheet come from the app's own `static/` and `templates/` folders.
bp = Blueprint("webchat", __name__)
DEFAULT_TOKEN = "demo"


@bp.get("/")
def page() -> ResponseReturnValue:
    endpoints = current_app.extensions["om-bridge"].config.endpoints
    token = request.args.get("token")
    if token is None:
        token = DEFAULT_TOKEN if DEFAULT_TOKEN in endpoints else next(iter(endpoints), None)
        if token is None:
            return (
                messages.NO_ENDPOINT_CONFIGURED,
                404,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
    if token not in endpoints:
        return (
            messages.UNKNOWN_WEBCHAT_TOKEN.format(token=token),
            404,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    return render_template("webchat.html", token=token)
