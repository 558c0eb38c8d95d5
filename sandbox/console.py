"""The sandbox's agent console page: `GET /console` plus its static JS/CSS under
`/console/static/`. The page logs in with the password grant and then uses only the public
Genesys agent routes (no sandbox-private shortcuts)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

STATIC = Path(__file__).with_name("static")

bp = Blueprint(
    "sandbox_console", __name__, static_folder=str(STATIC), static_url_path="/console/static"
)


@bp.get("/console")
def console_page() -> Response:
    """The single-page console."""
    resp = send_from_directory(STATIC, "console.html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    """Register the console page and its static files."""
    app.register_blueprint(bp)
