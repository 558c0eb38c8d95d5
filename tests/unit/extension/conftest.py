"""Fixtures of the extension tests: the bridge's extension route on a real loopback port."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from werkzeug.serving import make_server

from om_bridge.bridge.cognigy.remote import blueprint
from tests.conftest import free_port


@pytest.fixture
def bridge_server():
    """The extension blueprint on a real loopback port, with an API key; handover requests and
    relayed inputs are recorded (a handover is "started" unless its language is "none")."""
    started: list = []

    def start(request, payload):  # type: ignore[no-untyped-def]
        started.append((request, payload))
        if request.language == "none":
            return {
                "status": "refused",
                "outputs": [{"text": "No agent", "destination": "userOnly"}],
            }
        return {"status": "started", "outputs": [], "handover": {"id": "h-1"}}

    def relay(payload):  # type: ignore[no-untyped-def]
        started.append(("relay", payload))
        return {"relayed": True, "outputs": []}

    app = Flask("test-bridge")
    app.register_blueprint(blueprint(api_key="test-key", on_handover=start, on_relay=relay))
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", started
    server.shutdown()
    thread.join(timeout=5)
