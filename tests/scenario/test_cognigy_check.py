"""`om-bridge check` covers the Cognigy side of a Cognigy-hosted endpoint: the endpoint service
answers (or, on the legacy v2.0 API, a deprecation warning, API reachable, API key accepted, URL
token known), the extension route served, a provider named."""

from __future__ import annotations

import json
import os

import pytest
import tomli_w

from om_bridge.bridge import cli
from tests.scenario.cognigy_helpers import API_KEY, make_env

pytestmark = pytest.mark.node
_PREFIXES = ("FEATURE_", "GENESYS_", "SKIP_GENESYS_", "OM_BRIDGE_", "COGNIGY_")


def run_check(env, monkeypatch, capsys, cognigy_entry=None, bridge=None):  # type: ignore[no-untyped-def]
    config = json.loads(json.dumps(env.config))
    if cognigy_entry:
        config["cognigy_endpoints"][0].update(cognigy_entry)
    if bridge is not None:
        config["bridge"] = {k: v for k, v in config["bridge"].items() if k not in bridge}
    path = env.tmp_path / "check.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    for name, value in env.environ.items():
        monkeypatch.setenv(name, value)
    status = cli.main(["check", "--config", str(path), "--json"])
    out = capsys.readouterr().out
    token = config["cognigy_endpoints"][0]["url_token"]
    return status, out, {r["step"]: r for r in json.loads(out) if r["provider"] == token}


def test_check_on_the_endpoint_service_route(make_bridge_env, tmp_path, monkeypatch, capsys):
    env, cognigy = make_env(make_bridge_env, tmp_path)
    try:
        status, _, steps = run_check(env, monkeypatch, capsys)
        assert steps["Inject/Notify route"]["status"] == "PASS", steps
        assert "/inject|notify/" in steps["Inject/Notify route"]["detail"]
        assert "Cognigy API" not in steps
        assert status == 0, [s for s in steps.values() if s["status"] == "FAIL"]
        cognigy.close()
        status, _, steps = run_check(env, monkeypatch, capsys)
        assert status == 1 and steps["Inject/Notify route"]["status"] == "FAIL"
        assert "cannot be reached" in steps["Inject/Notify route"]["detail"]
        assert "endpoint_base_url" in steps["Inject/Notify route"]["fix"]
    finally:
        cognigy.close()


def test_check_passes_and_fails_on_the_legacy_api(make_bridge_env, tmp_path, monkeypatch, capsys):
    env, cognigy = make_env(make_bridge_env, tmp_path, "legacy")
    try:
        status, _, steps = run_check(env, monkeypatch, capsys)
        legacy = steps["Inject/Notify route"]
        assert (
            legacy["status"] == "WARN" and "deprecated in Cognigy.AI 2026.6.0" in legacy["detail"]
        )
        assert "endpoint_base_url" in legacy["fix"]
        assert [steps[s]["status"] for s in ("Cognigy API", "Cognigy URL token")] == ["PASS"] * 2
        assert steps["Extension route"]["status"] == "PASS"
        assert steps["Handover provider"]["status"] == "PASS"
        assert status == 0, [s for s in steps.values() if s["status"] == "FAIL"]

        monkeypatch.setenv("WRONG_COGNIGY_KEY", "not-the-key-4242")
        env.environ["WRONG_COGNIGY_KEY"] = "not-the-key-4242"
        status, out, steps = run_check(
            env, monkeypatch, capsys, {"api_key": "env:WRONG_COGNIGY_KEY"}
        )
        assert status == 1 and steps["Cognigy API"]["status"] == "FAIL"
        assert "refused the API key (HTTP 401)" in steps["Cognigy API"]["detail"]
        assert "API Keys" in steps["Cognigy API"]["fix"]
        assert "not-the-key-4242" not in out and API_KEY not in out

        status, _, steps = run_check(env, monkeypatch, capsys, {"url_token": "nope-token"})
        assert status == 1 and steps["Cognigy URL token"]["status"] == "FAIL"
        assert "nope-token" in steps["Cognigy URL token"]["detail"]

        status, _, steps = run_check(env, monkeypatch, capsys, bridge={"extension_api_key"})
        assert status == 1 and steps["Extension route"]["status"] == "FAIL"

        cognigy.emulator.api_down()
        status, _, steps = run_check(env, monkeypatch, capsys)
        assert status == 1 and "cannot be reached" in steps["Cognigy API"]["detail"]
    finally:
        cognigy.close()
