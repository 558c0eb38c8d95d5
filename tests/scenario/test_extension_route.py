"""The bridge serves the Cognigy extension's node calls only behind the configured API key."""

from __future__ import annotations

import pytest

from om_bridge.bridge.app import create_app
from om_bridge.bridge.config import load_config

KEY = "ext-key-0123456789abcdef"
SAY = {
    "type": "say",
    "nodeId": "n1",
    "config": {"say": {"type": "text", "text": ["Hello Jane"]}},
    "input": {"text": "hi"},
    "context": {},
    "profile": {},
}


def _app(tmp_path, bridge_extra: dict, environ: dict | None = None):
    config = {"bridge": {"store": f"sqlite:///{tmp_path / 'b.db'}", **bridge_extra}}
    return create_app({"config": config, "environ": environ or {}, "start_workers": False})


def _close(app) -> None:
    app.extensions["om-bridge"].close()


def test_route_absent_without_a_key(tmp_path):
    app = _app(tmp_path, {})
    try:
        assert app.test_client().post("/extension/v1/execute", json=SAY).status_code == 404
    finally:
        _close(app)


def test_route_runs_the_node_with_the_key_and_refuses_without(tmp_path):
    app = _app(tmp_path, {"extension_api_key": "env:OM_EXT_KEY"}, {"OM_EXT_KEY": KEY})
    try:
        client = app.test_client()
        assert client.post("/extension/v1/execute", json=SAY).status_code == 401
        wrong = client.post(
            "/extension/v1/execute",
            json=SAY,
            headers={"Authorization": "Bearer not-the-key-000000"},
        )
        assert wrong.status_code == 401
        ok = client.post(
            "/extension/v1/execute", json=SAY, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert ok.status_code == 200
        assert [o["text"] for o in ok.get_json()["outputs"]] == ["Hello Jane"]
    finally:
        _close(app)


def test_key_is_a_secret_in_config(tmp_path):
    with pytest.raises(ValueError, match="extension_api_key"):
        load_config(None, environ={}, overrides={"bridge": {"extension_api_key": "env:MISSING_X"}})
    config = load_config(
        None, environ={"K": KEY}, overrides={"bridge": {"extension_api_key": "env:K"}}
    )
    assert KEY not in repr(config.bridge)
    assert config.bridge.extension_api_key.reveal() == KEY
