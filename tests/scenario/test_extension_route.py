"""The bridge serves the Cognigy extension's node calls only behind the configured API key."""

from __future__ import annotations

import pytest

from om_bridge.bridge.app import create_app
from om_bridge.bridge.config import load_config

KEY = "ext-key-0123456789abcdef"
INPUT = {"text": "hi", "URLToken": "cg", "userId": "u1", "sessionId": "s1", "inputId": "i1"}
SAY = {
    "type": "handoverV2",
    "nodeId": "n1",
    "config": {},
    "input": {**INPUT, "URLToken": "not-configured"},
    "context": {},
    "profile": {},
}
COGNIGY = [
    {
        "url_token": "cg",
        "organisation": "o",
        "api_base_url": "http://127.0.0.1:9",
        "api_key": "cognigy-key",
    }
]


def _app(tmp_path, bridge_extra: dict, environ: dict | None = None):
    config = {
        "bridge": {"store": f"sqlite:///{tmp_path / 'b.db'}", **bridge_extra},
        "cognigy_endpoints": COGNIGY,
    }
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
        auth = {"Authorization": f"Bearer {KEY}"}
        unknown = client.post("/extension/v1/execute", json=SAY, headers=auth)
        assert unknown.status_code == 404
        assert "not-configured" in unknown.get_json()["error"]
        assert "[[cognigy_endpoints]]" in unknown.get_json()["error"]
        # A relayed input of a session without an open handover tells the user, once.
        ok = client.post("/extension/v1/relay", json={"input": INPUT}, headers=auth)
        assert ok.status_code == 200 and ok.get_json()["relayed"] is False
        assert "could not be delivered" in ok.get_json()["outputs"][0]["text"]
        again = client.post("/extension/v1/relay", json={"input": INPUT}, headers=auth)
        assert again.get_json() == {"relayed": False, "reason": "duplicate", "outputs": []}
        bad = client.post("/extension/v1/relay", json={"input": {"text": "x"}}, headers=auth)
        assert bad.status_code == 400 and "URLToken" in bad.get_json()["error"]
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
