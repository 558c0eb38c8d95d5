"""Sandbox configuration loading/validation, seed overrides, integrations CRUD over HTTP, and the
`om-bridge sandbox` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from sandbox_testkit import auth, start, token

from om_bridge.sandbox import seed
from om_bridge.sandbox.app import create_app
from om_bridge.sandbox.config import ConfigError, SandboxConfig
from tests.conftest import free_port, wait_for_http

INTEGRATIONS = "/api/v2/conversations/messaging/integrations/open"


def test_toml_file_with_sections(tmp_path):
    path = tmp_path / "sandbox.toml"
    path.write_text("""
[auth]
expires_in = 600
[conversations]
threading_window_minutes = 5
[flow]
connected_text = "Hello from the flow"
queue_position_messages = false
[webhook]
timeout = 1.5
retries = 2
retry_delay = 0.1
[rate_limit]
per_minute = 10
[notifications]
heartbeat_seconds = 2
[[faults]]
target = "webhook"
mode = "drop"
[seed]
webhook_url = "http://127.0.0.1:9999/hook"
""")
    cfg = SandboxConfig.load(str(path))
    assert (cfg.expires_in, cfg.threading_window_minutes, cfg.connected_text) == (
        600,
        5,
        "Hello from the flow",
    )
    assert cfg.queue_position_messages is False
    assert (cfg.webhook_timeout, cfg.webhook_retries, cfg.webhook_retry_delay) == (1.5, 2, 0.1)
    assert cfg.rate_limit_per_minute == 10
    assert cfg.section("notifications") == {"heartbeat_seconds": 2}
    assert cfg.section("eventbridge") == {}
    app = create_app(cfg)
    sandbox = app.extensions["sandbox"]
    try:
        assert sandbox.faults.list()[0].mode == "drop"
        integ = sandbox.store.integrations[seed.DEMO_INTEGRATION_ID]
        assert integ["outboundNotificationWebhookUrl"] == "http://127.0.0.1:9999/hook"
    finally:
        sandbox.close()


def test_json_file(tmp_path):
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps({"auth": {"expires_in": 60}, "data_action": {"timeout": 3}}))
    cfg = SandboxConfig.load(path)
    assert cfg.expires_in == 60 and cfg.sections["data_action"] == {"timeout": 3}


@pytest.mark.parametrize(
    "data, key",
    [
        ({"auth": {"expires_in": "soon"}}, "auth.expires_in"),
        ({"auth": {"lifetime": 5}}, "auth.lifetime"),
        ({"webhook": {"retries": True}}, "webhook.retries"),
        ({"webhook": {"timeout": -1}}, "webhook.timeout"),
        ({"flow": "yes"}, "'flow'"),
        ({"faults": [{"mode": "status", "status": 99}]}, "faults[0]"),
        ({"faults": {"mode": "drop"}}, "'faults'"),
    ],
)
def test_invalid_config_names_the_key(data, key):
    with pytest.raises(ConfigError) as exc:
        SandboxConfig.from_dict(data)
    assert key in str(exc.value)


def test_unreadable_and_unparsable_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        SandboxConfig.load(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[auth\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        SandboxConfig.load(str(bad))


def test_seed_overrides_are_validated():
    with pytest.raises(ValueError, match="unknown role 'ghost'"):
        create_app({"seed": {"clients": [{"id": "c", "secret": "s", "roles": ["ghost"]}]}})
    with pytest.raises(ValueError, match="seed.nonsense"):
        create_app({"seed": {"nonsense": 1}})


def test_integrations_crud_over_http():
    srv = start()
    try:
        tok = token(srv.url)
        body = {
            "name": "second",
            "outboundNotificationWebhookUrl": "http://127.0.0.1:1/x",
            "outboundNotificationWebhookSignatureSecretToken": "short",
        }
        resp = requests.post(srv.url + INTEGRATIONS, json=body, headers=auth(tok), timeout=5)
        assert resp.status_code == 400 and "longer than 15" in resp.json()["message"]
        body["outboundNotificationWebhookSignatureSecretToken"] = "0123456789abcdef"
        made = requests.post(srv.url + INTEGRATIONS, json=body, headers=auth(tok), timeout=5)
        assert made.status_code == 202 and made.json()["createStatus"] == "Initiated"
        iid = made.json()["id"]
        dup = requests.post(srv.url + INTEGRATIONS, json=body, headers=auth(tok), timeout=5)
        assert dup.status_code == 409
        patched = requests.patch(
            f"{srv.url}{INTEGRATIONS}/{iid}",
            headers=auth(tok),
            timeout=5,
            json={"webhookHeaders": {"X-Key": "v"}},
        )
        assert patched.status_code == 200 and patched.json()["webhookHeaders"] == {"X-Key": "v"}
        bad = requests.patch(
            f"{srv.url}{INTEGRATIONS}/{iid}",
            headers=auth(tok),
            timeout=5,
            json={"webhookHeaders": {"X-Key": 1}},
        )
        assert bad.status_code == 400
        assert (
            requests.delete(
                f"{srv.url}{INTEGRATIONS}/{iid}", headers=auth(tok), timeout=5
            ).status_code
            == 204
        )
        gone = requests.get(f"{srv.url}{INTEGRATIONS}/{iid}", headers=auth(tok), timeout=5)
        assert gone.status_code == 404 and gone.json()["code"] == "not.found"
        page = requests.get(
            srv.url + INTEGRATIONS, params={"pageSize": 0}, headers=auth(tok), timeout=5
        )
        assert page.status_code == 400
    finally:
        srv.stop()


def test_cli_serves_and_prints_identities(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text("[rate_limit]\nper_minute = 5\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "om_bridge", "sandbox", "--port", str(port), "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/sandbox/rate-limit")
        assert requests.get(f"http://127.0.0.1:{port}/sandbox/rate-limit", timeout=5).json() == {
            "perMinute": 5
        }
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/console" in out
    assert seed.BRIDGE_CLIENT_SECRET in out and seed.DEMO_AGENT_USERNAME in out
    assert proc.returncode == 0


def test_cli_rejects_bad_config(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text("[auth]\nexpires_in = 'x'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "om_bridge", "sandbox", "--port", "0", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "auth.expires_in" in proc.stderr
