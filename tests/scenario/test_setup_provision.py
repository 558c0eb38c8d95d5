"""`om-bridge provision` against a real sandbox: create the integration where there is none, fix
its webhook URL and secret, change nothing the second time, and `om-bridge check` passes after."""

from __future__ import annotations

import json
import os

import pytest

from om_bridge.bridge import cli
from om_bridge.bridge.genesys import GenesysClient
from om_bridge.bridge.setup.context import Target
from om_bridge.bridge.setup.provision import make_plan
from om_bridge.bridge.setup.provision_state import STATE_FILE, ProvisionState
from om_bridge.sandbox import seed
from tests.scenario.harness import BridgeEnv

PROVIDER = "genesys-demo"
NAME = seed.DEMO_INTEGRATION_NAME
_PREFIXES = ("FEATURE_", "GENESYS_", "SKIP_GENESYS_", "OM_BRIDGE_")


@pytest.fixture
def run(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Run an `om-bridge` command for an env (its config, data dir and flags); (status, stdout)."""

    def go(env: BridgeEnv, command: str, *extra: str) -> tuple[int, str]:
        for name in list(os.environ):
            if name.startswith(_PREFIXES):
                monkeypatch.delenv(name)
        for name, value in env.environ.items():
            monkeypatch.setenv(name, value)
        status = cli.main(
            [command, "--config", str(env.config_path()), "--data-dir", str(env.data_dir), *extra]
        )
        return status, capsys.readouterr().out

    return go


def genesys(env: BridgeEnv) -> GenesysClient:
    return GenesysClient(
        base_url=env.sandbox_url,
        client_id=seed.BRIDGE_CLIENT_ID,
        client_secret=seed.BRIDGE_CLIENT_SECRET,
    )


def integrations_named(env: BridgeEnv, name: str = NAME) -> list[dict]:
    client = genesys(env)
    try:
        return [i for i in client.list_integrations() if i["name"] == name]
    finally:
        client.close()


@pytest.fixture
def empty_env(bridge_env) -> BridgeEnv:
    """A sandbox with no Open Messaging integration (the demo one deleted through the API)."""
    client = genesys(bridge_env)
    client.delete_integration(seed.DEMO_INTEGRATION_ID)
    client.close()
    assert integrations_named(bridge_env) == []
    return bridge_env


def test_provision_creates_then_check_passes_then_nothing_changes(empty_env, run) -> None:
    status, out = run(empty_env, "check", "--json")
    assert status == 1  # no integration yet
    status, out = run(empty_env, "provision")
    assert status == 0, out
    assert f'created the Open Messaging integration "{NAME}"' in out
    assert "3. Create an Inbound Message Flow" in out and "4. Set up Message Routing" in out
    [created] = integrations_named(empty_env)
    expected_url = f"{empty_env.bridge_url}/handover/genesysCloudOM"
    assert created["outboundNotificationWebhookUrl"] == expected_url
    assert created["outboundNotificationWebhookSignatureSecretToken"] == seed.DEMO_WEBHOOK_SECRET
    assert created["createStatus"] == "Completed"

    status, out = run(empty_env, "check", "--json")
    results = json.loads(out)
    assert status == 0 and {r["status"] for r in results} == {"PASS"}, results

    status, out = run(empty_env, "provision")
    assert status == 0
    assert f'no changes: "{NAME}" (id {created["id"]})' in out
    [again] = integrations_named(empty_env)
    assert again["dateModified"] == created["dateModified"]
    for secret in (seed.DEMO_WEBHOOK_SECRET, seed.BRIDGE_CLIENT_SECRET):
        assert secret not in out


def test_dry_run_changes_nothing(empty_env, run) -> None:
    status, out = run(empty_env, "provision", "--dry-run")
    assert status == 0
    assert "dry run" in out and f'would create the Open Messaging integration "{NAME}"' in out
    assert integrations_named(empty_env) == []
    assert not (empty_env.data_dir / STATE_FILE).exists()


@pytest.mark.bridge_env(
    sandbox_config={
        "seed": {
            "webhook_url": "https://elsewhere.example.com/handover/genesysCloudOM",
            "integrations": [
                {
                    "id": seed.DEMO_INTEGRATION_ID,
                    "outboundNotificationWebhookSignatureSecretToken": "an-old-secret-0123456789",
                }
            ],
        }
    }
)
def test_provision_updates_url_and_secret(bridge_env, run) -> None:
    status, out = run(bridge_env, "provision", "--dry-run")
    assert status == 0 and "would change the webhook URL" in out
    [before] = integrations_named(bridge_env)
    assert before["outboundNotificationWebhookUrl"].startswith("https://elsewhere.example.com")

    status, out = run(bridge_env, "provision")
    assert status == 0, out
    expected = f"{bridge_env.bridge_url}/handover/genesysCloudOM"
    assert (
        "changed the webhook URL: https://elsewhere.example.com/handover/genesysCloudOM -> "
        + expected
    ) in out
    assert (
        "replaced the signature secret with webhook_secret (Genesys returned a different one)"
    ) in out
    [after] = integrations_named(bridge_env)
    assert after["id"] == seed.DEMO_INTEGRATION_ID
    assert after["outboundNotificationWebhookUrl"] == expected
    assert after["outboundNotificationWebhookSignatureSecretToken"] == seed.DEMO_WEBHOOK_SECRET

    status, out = run(bridge_env, "check")
    assert status == 0 and out.splitlines()[-1].endswith("0 FAIL, 0 WARN"), out
    status, out = run(bridge_env, "provision")
    assert status == 0 and "no changes" in out


def test_missing_permission_to_create(make_bridge_env, run) -> None:
    permissions = [p for p in seed.BRIDGE_PERMISSIONS if p != "messaging:integration:add"]
    env = make_bridge_env(
        sandbox_config={"seed": {"roles": [{"id": "bridge", "permissions": permissions}]}}
    )
    client = genesys(env)
    client.delete_integration(seed.DEMO_INTEGRATION_ID)
    client.close()
    status, out = run(env, "provision")
    assert status == 1
    assert "provision failed for provider genesys-demo" in out
    assert "messaging:integration:add" in out and '"5. Configure Credentials"' in out
    assert integrations_named(env) == []


def test_unknown_region_fails_cleanly(bridge_env, run) -> None:
    config = bridge_env.config_path()
    text = config.read_text().replace(
        f'base_url = "{bridge_env.sandbox_url}"', 'host = "mypurecloud.example"'
    )
    assert "mypurecloud.example" in text
    config.write_text(text)
    status, out = run(bridge_env, "provision")
    assert status == 1
    assert "provision failed for provider genesys-demo" in out and "mypurecloud.example" in out


def test_secret_not_returned_is_tracked_by_fingerprint(bridge_env, tmp_path) -> None:
    """Where Genesys hides the secret, the first run sets it, the next sees the fingerprint."""
    target = Target(bridge_env.ctx.config, bridge_env.ctx.config.provider(PROVIDER), {})
    hidden = {"id": "i-1", "name": NAME, "outboundNotificationWebhookUrl": target.webhook_url}
    state = ProvisionState(tmp_path)
    api = bridge_env.sandbox_url

    plan = make_plan(target, hidden, state, api, dry_run=False)
    assert plan.fields == {"webhook_secret": seed.DEMO_WEBHOOK_SECRET}
    assert "has no record of setting it" in plan.lines[0]
    state.record_secret(api, "i-1", target.webhook_secret)

    plan = make_plan(target, hidden, ProvisionState(tmp_path), api, dry_run=False)
    assert plan.action == "none" and plan.fields == {}
    stored = (tmp_path / STATE_FILE).read_text()
    assert seed.DEMO_WEBHOOK_SECRET not in stored
    assert oct((tmp_path / STATE_FILE).stat().st_mode & 0o777) == "0o600"

    state.record_secret(api, "i-1", "an-older-secret-0123456789")
    plan = make_plan(target, hidden, ProvisionState(tmp_path), api, dry_run=False)
    assert "webhook_secret changed since the last provision" in plan.lines[0]


def test_a_real_org_is_never_given_a_local_webhook_url(bridge_env, run) -> None:
    """With public_url left at its default (http://127.0.0.1:8080), provision for a region host
    refuses before calling Genesys instead of pointing the org's integration at loopback."""
    config = bridge_env.config_path()
    text = config.read_text().replace(
        f'base_url = "{bridge_env.sandbox_url}"', 'host = "mypurecloud.de"'
    )
    assert 'host = "mypurecloud.de"' in text
    config.write_text(text)
    status, out = run(bridge_env, "provision")
    assert status == 1
    assert (
        f"the webhook URL {bridge_env.bridge_url}/handover/genesysCloudOM is not one Genesys "
        "Cloud can deliver to (the scheme is http)" in out
    )
    assert "bridge.public_url" in out and '"1. Create a Platform"' in out
    assert seed.DEMO_WEBHOOK_SECRET not in out and seed.BRIDGE_CLIENT_SECRET not in out
