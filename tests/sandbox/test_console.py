"""The agent console page is served with its assets, uses only public Genesys routes, and its
form controls are labelled (the browser story is in test_console_browser.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from om_bridge.sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server():
    with SandboxServer() as srv:
        yield srv


class Controls(HTMLParser):
    """Collects labels, form controls, buttons (with their text) and script/style references."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.buttons: list[str] = []
        self.assets: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            self.controls.append(a)
        elif tag == "button":
            self._button = []
        elif tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.assets.append(a["href"])

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None


def test_page_and_assets(server):
    resp = requests.get(f"{server.url}/console", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    page = Controls()
    page.feed(resp.text)
    assert page.assets == ["/console/static/console.css", "/console/static/console.js"]
    for asset in page.assets:
        got = requests.get(server.url + asset, timeout=5)
        assert got.status_code == 200 and got.content
    # no CDN or other outside resource
    assert not re.search(r"(src|href)=\"https?://", resp.text)


def test_controls_are_labelled_and_buttons_have_text(server):
    page = Controls()
    page.feed(requests.get(f"{server.url}/console", timeout=5).text)
    assert page.controls
    for control in page.controls:
        assert control.get("id") in page.labels, f"unlabelled control {control}"
    assert page.buttons and all(page.buttons), page.buttons
    for hook in (
        "login-form",
        "answer",
        "send",
        "transfer",
        "end",
        "wrapup",
        "attributes",
        "transcript",
        "message-text",
    ):
        assert f'data-testid="{hook}"' in requests.get(f"{server.url}/console", timeout=5).text


def test_script_uses_only_public_genesys_routes(server):
    js = requests.get(f"{server.url}/console/static/console.js", timeout=5).text
    paths = set(re.findall(r"\"(/[a-z][^\"]*)", js))
    assert paths, "no routes found in console.js"
    # literals are either full public routes or suffixes appended to them ("/messages", ...)
    assert not any(p.startswith(("/sandbox", "/console", "/admin")) for p in paths), paths
    assert "/sandbox/" not in js
    for route in (
        "/api/v2/conversations/messages",
        "/oauth/token",
        "/api/v2/routing/queues",
        "/api/v2/users/me",
    ):
        assert any(p.startswith(route) for p in paths), route
