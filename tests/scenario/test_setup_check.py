"""`om-bridge check` against a real sandbox and a running bridge: a correct set-up passes every
step; each deliberately broken set-up gives its FAIL line, the setup step to fix it and exit 1."""

from __future__ import annotations

import copy
import json
import os
import uuid

import pytest
import tomli_w

from om_bridge.bridge import cli
from om_bridge.bridge.demo import demo_environ, demo_features
from om_bridge.bridge.setup.remote import URL_FIELD
from om_bridge.bridge.setup.steps import StepResult, render_text
from om_bridge.sandbox import seed
from tests.scenario.harness import BridgeEnv

PROVIDER = "genesys-demo"
# Environment variables the bridge reads; the check reads them from its own process.
_PREFIXES = ("FEATURE_", "GENESYS_", "SKIP_GENESYS_", "OM_BRIDGE_")


@pytest.fixture
def check(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Run `om-bridge check --json` for an env through the CLI: (status, results by step)."""

    def run(
        env: BridgeEnv,
        *extra: str,
        environ: dict | None = None,
        text: bool = False,
        config: dict | None = None,
    ):
        path = env.config_path()
        if config is not None:  # a configuration only the check reads (the bridge keeps its own)
            path = env.tmp_path / "check.toml"
            path.write_text(tomli_w.dumps(config), encoding="utf-8")
        for name in list(os.environ):
            if name.startswith(_PREFIXES):
                monkeypatch.delenv(name)
        for name, value in (env.environ if environ is None else environ).items():
            monkeypatch.setenv(name, value)
        args = ["check", "--config", str(path), *extra]
        status = cli.main(args if text else [*args, "--json"])
        out = capsys.readouterr().out
        if text:
            return status, out
        results = json.loads(out)
        steps = [r["step"] for r in results]
        assert len(steps) == len(set(steps)), f"a step reported twice: {steps}"
        assert_every_fail_names_its_fix_and_seed_step(results)
        return status, {r["step"]: r for r in results}

    return run


def assert_every_fail_names_its_fix_and_seed_step(results: list[dict]) -> None:
    """In --json and in the text a person reads: a FAIL says what to change and the setup step."""
    for r in results:
        assert set(r) == {"provider", "step", "status", "detail", "fix", "seed_step"}
        if r["status"] != "FAIL":
            continue
        assert r["fix"] and r["seed_step"], r
    text = render_text([("Provider", [StepResult(**r) for r in results])]).splitlines()
    for i, line in enumerate(text):
        if line.startswith("FAIL  "):
            fix = text[i + 1]
            assert fix.strip().startswith("fix: ") and 'setup step "' in fix, (line, fix)


def failed(results: dict) -> dict:
    return {step: r for step, r in results.items() if r["status"] == "FAIL"}


def test_correct_setup_passes_every_step(bridge_env, check) -> None:
    status, results = check(bridge_env)
    assert {r["status"] for r in results.values()} == {"PASS"}, results
    assert status == 0
    assert all(r["provider"] == PROVIDER and r["fix"] is None for r in results.values())
    assert "Demo Queue" in results["Queue"]["detail"]
    assert "om-bridge demo inbound message flow" in results["Message routing"]["detail"]
    assert "om-bridge-demo" in results["Open Messaging integration"]["detail"]
    assert (
        "accepted a webhook signed with the integration's secret"
        in results["Signed webhook round-trip"]["detail"]
    )
    for permission in (
        "messaging:integration:view",
        "conversation:message:create",
        "conversation:message:view",
        "directory:user:view",
    ):
        assert results[f"Permission {permission}"]["status"] == "PASS"
    assert results["Completion: EventBridge API key configured"]["status"] == "PASS"


def test_text_output_has_one_line_per_step_and_a_summary(bridge_env, check) -> None:
    status, out = check(bridge_env, text=True)
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == f"Provider {PROVIDER} (base_url {bridge_env.sandbox_url})"
    steps = [line for line in lines if line.startswith(("PASS  ", "FAIL  ", "WARN  "))]
    assert len(steps) == 19 and all("  — " in line for line in steps)
    assert lines[-1] == "19 PASS, 0 FAIL, 0 WARN"


def test_wrong_webhook_secret(make_bridge_env, check) -> None:
    wrong = "not-the-integration-secret-0123"
    env = make_bridge_env(config={"providers": [{"id": PROVIDER, "webhook_secret": wrong}]})
    status, results = check(env)
    assert status == 1
    secret = results["Webhook secret"]
    assert secret["status"] == "FAIL"
    assert "differs from webhook_secret" in secret["detail"]
    assert secret["seed_step"] == "1. Create a Handover Provider"
    # The running bridge has the wrong secret too, so Genesys' signatures would be rejected.
    roundtrip = results["Signed webhook round-trip"]
    assert roundtrip["status"] == "FAIL" and "rejected" in roundtrip["detail"]
    assert "(401)" in roundtrip["detail"]
    # Neither secret is ever printed.
    _, out = check(env, text=True)
    for value in (wrong, seed.DEMO_WEBHOOK_SECRET, seed.BRIDGE_CLIENT_SECRET):
        assert value not in out and value not in json.dumps(results)


def test_short_webhook_secret_without_token(bridge_env, check) -> None:
    config = copy.deepcopy(bridge_env.config)
    config["providers"][0].update(webhook_secret="too-short", client_secret="not-the-secret-0123")
    status, results = check(bridge_env, config=config)
    assert status == 1
    secret = results["Webhook secret"]
    assert secret["status"] == "FAIL" and "more than 15" in secret["detail"]
    assert secret["seed_step"] == "1. Create a Platform"
    assert set(failed(results)) >= {"Webhook secret", "OAuth client credentials"}


def test_unknown_deployment_name_lists_the_existing_names(make_bridge_env, check) -> None:
    env = make_bridge_env(config={"providers": [{"id": PROVIDER, "deployment_name": "no-such-om"}]})
    status, results = check(env)
    assert status == 1
    integ = results["Open Messaging integration"]
    assert integ["status"] == "FAIL"
    assert 'no Open Messaging integration is named "no-such-om"' in integ["detail"]
    assert '"om-bridge-demo"' in integ["detail"]
    assert integ["seed_step"] == "1. Create a Platform"
    assert "om-bridge provision" in integ["fix"]
    assert results["Webhook URL"]["status"] == "WARN"  # skipped, not a second failure
    assert set(failed(results)) == {"Open Messaging integration"}


def test_webhook_url_pointing_elsewhere(make_bridge_env, check) -> None:
    elsewhere = "https://elsewhere.example.com/handover/genesysCloudOM"
    env = make_bridge_env(sandbox_config={"seed": {"webhook_url": elsewhere}})
    status, results = check(env)
    assert status == 1
    url = results["Webhook URL"]
    assert url["status"] == "FAIL"
    assert elsewhere in url["detail"]
    assert f"{env.bridge_url}/handover/genesysCloudOM" in url["detail"]
    assert url["seed_step"] == "1. Create a Platform"
    assert set(failed(results)) == {"Webhook URL"}


def _role_without(*removed: str) -> dict:
    permissions = [p for p in seed.BRIDGE_PERMISSIONS if p not in removed]
    return {"seed": {"roles": [{"id": "bridge", "permissions": permissions}]}}


def test_missing_permission_is_named_from_the_403_body(make_bridge_env, check) -> None:
    env = make_bridge_env(sandbox_config=_role_without("conversation:message:create"))
    status, results = check(env)
    assert status == 1
    perm = results["Permission conversation:message:create"]
    assert perm["status"] == "FAIL"
    assert "missing" in perm["detail"] and "missing.permissions" in perm["detail"]
    assert "conversation:message:create" in perm["fix"]
    assert perm["seed_step"] == "5. Configure Credentials"
    assert set(failed(results)) == {"Permission conversation:message:create"}


def test_optional_permission_only_warns(make_bridge_env, check) -> None:
    env = make_bridge_env(
        sandbox_config=_role_without(
            "directory:user:view", "routing:queue:view", "routing:message:manage"
        )
    )
    status, results = check(env)
    assert status == 0
    users = results["Permission directory:user:view"]
    assert users["status"] == "WARN" and "Display Agent Details" in users["detail"]
    queue = results["Queue"]
    assert queue["status"] == "WARN" and "routing:queue:view" in queue["detail"]
    routing = results["Message routing"]
    assert routing["status"] == "WARN" and "routing:message:manage" in routing["fix"]


@pytest.mark.bridge_env(
    sandbox_config={
        "seed": {
            "default_flow_id": "",
            "integrations": [{"id": seed.DEMO_INTEGRATION_ID, "flow_id": ""}],
        }
    }
)
def test_integration_without_inbound_message_flow(bridge_env, check) -> None:
    status, results = check(bridge_env)
    assert status == 1
    routing = results["Message routing"]
    assert routing["status"] == "FAIL"
    assert 'no inbound message flow is attached to "om-bridge-demo"' in routing["detail"]
    assert routing["seed_step"] == "4. Set up Message Routing"
    assert "3. Create an Inbound Message Flow" in routing["fix"]
    assert set(failed(results)) == {"Message routing"}


def test_unknown_queue(make_bridge_env, check) -> None:
    queue_id = str(uuid.uuid4())
    env = make_bridge_env(config={"providers": [{"id": PROVIDER, "queue_id": queue_id}]})
    status, results = check(env)
    assert status == 1
    queue = results["Queue"]
    assert queue["status"] == "FAIL" and queue_id in queue["detail"]
    assert queue["seed_step"] == "2. Create a Queue"
    assert "/queues/" in queue["fix"]
    assert set(failed(results)) == {"Queue"}


def test_feature_flag_off(bridge_env, check) -> None:
    environ = {**bridge_env.environ, "FEATURE_ENABLE_GENESYS_CLOUD_OM": "false"}
    status, results = check(bridge_env, environ=environ)
    assert status == 1
    flags = results["Feature flags"]
    assert flags["status"] == "FAIL"
    assert "FEATURE_ENABLE_GENESYS_CLOUD_OM" in flags["detail"]
    assert "endpoint demo (organisation demo)" in flags["detail"]
    assert flags["seed_step"] == "Prerequisites"
    assert set(failed(results)) == {"Feature flags"}
    # Where the refusing flag came from, and a fix that names the table and the override.
    assert "from the environment: FEATURE_ENABLE_GENESYS_CLOUD_OM" in flags["detail"]
    assert "[features] table" in flags["fix"] and "environment overrides" in flags["fix"]


def test_flag_sources_named(bridge_env, check) -> None:
    """Flags from the configuration's [features] table are named as such, an environment
    variable that overrides one as coming from the environment."""
    config = copy.deepcopy(bridge_env.config)
    config["features"] = demo_features()
    environ = {k: v for k, v in bridge_env.environ.items() if k not in demo_environ()}
    status, results = check(bridge_env, environ=environ, config=config)
    flags = results["Feature flags"]
    assert flags["status"] == "PASS", flags
    assert "from the [features] table: FEATURE_ENABLE_GENESYS_CLOUD_OM," in flags["detail"]
    assert "environment" not in flags["detail"]
    assert "all other flags at their defaults" in flags["detail"]

    environ["FEATURE_ENABLE_GENESYS_CLOUD_OM"] = "false"
    status, results = check(bridge_env, environ=environ, config=config)
    flags = results["Feature flags"]
    assert flags["status"] == "FAIL"
    assert "from the environment: FEATURE_ENABLE_GENESYS_CLOUD_OM" in flags["detail"]
    table = flags["detail"].split("from the [features] table: ")[1].split(";")[0]
    assert "FEATURE_ENABLE_GENESYS_CLOUD_OM," not in table + ","


def test_organisation_not_whitelisted(bridge_env, check) -> None:
    environ = {**bridge_env.environ, "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "acme"}
    status, results = check(bridge_env, environ=environ)
    assert status == 1
    assert (
        "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST" in results["Feature flags"]["detail"]
    )


def test_trial_environment(make_bridge_env, check) -> None:
    env = make_bridge_env(config={"bridge": {"environment": "trial"}})
    status, results = check(env)
    assert status == 1
    assert results["Environment"]["status"] == "FAIL"
    assert results["Environment"]["seed_step"] == "Restrictions"


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("client_id", "no-such-client", "does not know the OAuth client id no-such-client"),
        ("client_secret", "wrong-secret-0123456789", "exists but its secret was rejected"),
    ],
)
def test_wrong_client_id_and_wrong_secret_are_told_apart(
    make_bridge_env, check, field, value, expected
) -> None:
    env = make_bridge_env(config={"providers": [{"id": PROVIDER, field: value}]})
    status, results = check(env)
    assert status == 1
    token = results["OAuth client credentials"]
    assert token["status"] == "FAIL" and expected in token["detail"]
    assert token["seed_step"] == "5. Configure Credentials"
    assert value not in json.dumps(results) or field == "client_id"
    # Steps that need a token are reported as skipped, not as further failures.
    assert results["Queue"]["status"] == "WARN"
    assert set(failed(results)) == {"OAuth client credentials"}


def test_unknown_region_host(bridge_env, check) -> None:
    config = copy.deepcopy(bridge_env.config)
    provider = config["providers"][0]
    del provider["base_url"]
    provider["host"] = "apps.mypurecloud.example"
    status, results = check(bridge_env, config=config)
    assert status == 1
    region = results["Genesys region"]
    assert region["status"] == "FAIL" and "mypurecloud.example" in region["detail"]
    assert "mypurecloud.de" in region["fix"]
    assert region["seed_step"] == "1. Create a Handover Provider"
    assert results["OAuth client credentials"]["status"] == "WARN"  # skipped: no API to ask


def test_notifications_completion_creates_a_channel(make_bridge_env, check) -> None:
    env = make_bridge_env(config={"providers": [{"id": PROVIDER, "completion": "notifications"}]})
    status, results = check(env)
    assert status == 0, failed(results)
    assert results["Completion: Notifications channel can be created"]["status"] == "PASS"
    assert results["Completion: Notifications WebSocket connects"]["status"] == "PASS"


def test_bridge_not_running_warns_but_does_not_fail(bridge_env, check) -> None:
    bridge_env.stop_bridge()
    status, results = check(bridge_env)
    assert status == 0
    roundtrip = results["Signed webhook round-trip"]
    assert roundtrip["status"] == "WARN" and "did not answer" in roundtrip["detail"]


def elsewhere(bridge_env, monkeypatch, name: str):  # type: ignore[no-untyped-def]
    """Run from an empty folder with only the test's own bridge variables set."""
    workdir = bridge_env.tmp_path / name
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    for variable in list(os.environ):
        if variable.startswith(_PREFIXES):
            monkeypatch.delenv(variable)
    for variable, value in bridge_env.environ.items():
        monkeypatch.setenv(variable, value)
    return workdir


def test_default_config_falls_back_to_the_data_dir(bridge_env, monkeypatch, capsys) -> None:
    """`om-bridge check` with no --config reads <data-dir>/om-bridge.toml (written by the demo)."""
    data_dir = bridge_env.tmp_path / "demo-data"
    data_dir.mkdir()
    (data_dir / "om-bridge.toml").write_text(bridge_env.config_path().read_text())
    elsewhere(bridge_env, monkeypatch, "elsewhere")
    assert cli.main(["check", "--data-dir", str(data_dir)]) == 0
    captured = capsys.readouterr()
    assert f"using {data_dir / 'om-bridge.toml'}" in captured.err
    assert captured.out.splitlines()[-1].endswith("0 FAIL, 0 WARN")


def test_default_config_is_om_bridge_config_when_set(bridge_env, monkeypatch, capsys) -> None:
    """As `serve`: with no --config, `$OM_BRIDGE_CONFIG` names the file (before the data dir)."""
    workdir = elsewhere(bridge_env, monkeypatch, "elsewhere-env")
    monkeypatch.setenv("OM_BRIDGE_CONFIG", str(bridge_env.config_path()))
    assert cli.main(["check", "--data-dir", str(workdir / "no-data")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("0 FAIL, 0 WARN")
    monkeypatch.setenv("OM_BRIDGE_CONFIG", str(workdir / "missing.toml"))
    assert cli.main(["check"]) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_unknown_provider_and_missing_config_exit_2(bridge_env, check, capsys) -> None:
    assert cli.main(["check", "--config", str(bridge_env.config_path()), "--provider", "nope"]) == 2
    assert "unknown provider nope" in capsys.readouterr().err
    assert cli.main(["check", "--config", str(bridge_env.tmp_path / "missing.toml")]) == 2


def test_sandbox_recipient_route_parses_as_the_sdk_model(bridge_env) -> None:
    """The recipient route the routing step reads answers the SDK's `Recipient` model."""
    from PureCloudPlatformClientV2 import RoutingApi
    from PureCloudPlatformClientV2.api_client import ApiClient

    api = ApiClient(host=bridge_env.sandbox_url)
    api.get_client_credentials_token(seed.BRIDGE_CLIENT_ID, seed.BRIDGE_CLIENT_SECRET)
    recipient = RoutingApi(api).get_routing_message_recipient(seed.DEMO_INTEGRATION_ID)
    assert recipient.id == seed.DEMO_INTEGRATION_ID
    assert recipient.name == seed.DEMO_INTEGRATION_NAME
    assert recipient.messenger_type == "open"
    assert recipient.flow.id == seed.DEMO_FLOW_ID


def test_webhook_url_of_a_real_org_is_not_pointed_at_a_local_address(bridge_env) -> None:
    """A region host with public_url left local: the fix is to publish the bridge, not to point
    the org's integration at loopback (the step asks nothing of Genesys beyond the integration)."""
    import dataclasses

    from om_bridge.bridge.config import load_config
    from om_bridge.bridge.setup.context import Target
    from om_bridge.bridge.setup.remote import check_webhook_url
    from om_bridge.bridge.setup.steps import StepLog

    config = load_config(str(bridge_env.config_path()), bridge_env.environ)
    provider = dataclasses.replace(config.provider(PROVIDER), host="mypurecloud.de", base_url="")
    target = Target(config, provider, bridge_env.environ)
    log = StepLog(PROVIDER)
    check_webhook_url(target, {"name": "om", URL_FIELD: "https://bot.example.com/hook"}, log)
    [result] = log.results
    assert result.status == "FAIL" and "Genesys Cloud cannot deliver to it" in result.detail
    assert "set bridge.public_url" in result.fix and bridge_env.bridge_url not in result.fix
    assert result.seed_step == "1. Create a Platform"
    log = StepLog(PROVIDER)
    check_webhook_url(target, {"name": "om", URL_FIELD: config.bridge.webhook_url}, log)
    assert log.results[0].status == "WARN"  # matches, but Genesys cannot reach it


def test_a_secret_echoed_in_a_detail_is_masked(make_bridge_env, check) -> None:
    """A detail that would print a configured secret (here: the deployment name equals the client
    secret, so "no integration is named <secret>" echoes it) shows *** instead."""
    from om_bridge.sandbox import seed

    env = make_bridge_env(
        config={"providers": [{"id": PROVIDER, "deployment_name": seed.BRIDGE_CLIENT_SECRET}]}
    )
    status, results = check(env)
    assert status == 1
    detail = results["Open Messaging integration"]["detail"]
    assert seed.BRIDGE_CLIENT_SECRET not in detail
    assert 'named "***"' in detail


def test_output_never_shows_a_configured_secret_even_if_genesys_echoes_it():
    """Genesys error messages are printed as received; the writer masks configured secrets."""
    import io

    from om_bridge.bridge.setup.redact import RedactingWriter

    buf = io.StringIO()
    writer = RedactingWriter(buf, ["bridge-secret-0123456789", "short", ""])
    print("token refused: client_secret=bridge-secret-0123456789 (short)", file=writer)
    assert "bridge-secret-0123456789" not in buf.getvalue()
    assert buf.getvalue() == "token refused: client_secret=*** (***)\n"


def test_unknown_flow_fails_the_endpoint_flows_step(bridge_env, check) -> None:
    config = copy.deepcopy(bridge_env.config)
    config["endpoints"][0]["flow"] = "no-such-flow"
    status, results = check(bridge_env, config=config)
    assert status == 1
    flows = results["Endpoint flows"]
    assert flows["status"] == "FAIL"
    assert (
        "endpoints[0].flow (endpoint 'demo')" in flows["detail"]
        and "no-such-flow" in flows["detail"]
    )


def test_permission_steps_name_the_seed_role_wording(bridge_env, check) -> None:
    status, results = check(bridge_env)
    assert status == 0
    view = results["Permission messaging:integration:view"]["detail"]
    assert "messaging-platform:readonly (View messaging platform integrations)" in view
    create = results["Permission conversation:message:create"]["detail"]
    assert "conversations (Create, edit, and delete conversation data)" in create
    assert "analytics:readonly" in results["Permission conversation:message:view"]["detail"]
    assert "not in the seed's list" in results["Permission directory:user:view"]["detail"]
