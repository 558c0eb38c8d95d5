"""Fixtures of the extension tests: the bridge's extension route on a real loopback port."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from werkzeug.serving import make_server

from om_bridge.extension.remote import blueprint
from tests.conftest import free_port


@pytest.fixture
def bridge_server():
    """The execution blueprint on a real loopback port, with an API key and a handover recorder."""
    started = []
    app = Flask("test-bridge")
    app.register_blueprint(
        blueprint(api_key="test-key", on_handover=lambda req, inp: started.append((req, inp)))
    )
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", started
    server.shutdown()
    thread.join(timeout=5)
