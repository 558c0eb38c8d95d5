"""The app factory: wiring, and production defaults that are safe (secrets required, no way to skip verification)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from om_bridge.bridge.app import StartupError, create_app, load_settings
from om_bridge.bridge.config import ConfigError
from om_bridge.bridge.demo import demo_config, demo_environ


def settings(tmp_path, mutate=None, environ=None, start_workers=False) -> dict:
    config = demo_config("http://127.0.0.1:8080", "http://127.0.0.1:8081", tmp_path / "data")
    config.pop("features")  # these tests give the flags through the environment
    if mutate:
        mutate(config)
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    return {
        "config_path": str(path),
        "environ": demo_environ() if environ is None else environ,
        "start_workers": start_workers,
    }


def test_create_app_wires_every_subsystem(tmp_path):
    app = create_app(settings(tmp_path))
    try:
        ctx = app.extensions["om-bridge"]
        assert (tmp_path / "data" / "om-bridge.db").exists()  # the data dir was created
        assert ctx.engine is not None and ctx.completion is not None
        assert ctx.store.ping()
        rules = {r.rule for r in app.url_map.iter_rules()}
        for rule in (
            "/endpoint/<url_token>",
            "/endpoint/<url_token>/sessions/<session_id>/outputs",
            "/endpoint/<url_token>/sessions/<session_id>/events",
            "/handover/genesysCloudOM",
            "/handover/genesysCloudOM/eventbridge",
            "/healthz",
            "/readyz",
            "/metrics",
            "/",
        ):
            assert rule in rules, rule
        assert ctx.clients.for_provider("genesys-demo") is ctx.clients.for_provider("genesys-demo")
    finally:
        ctx.close()


def test_client_secret_is_required(tmp_path):
    def drop(c):
        del c["providers"][0]["client_secret"]

    with pytest.raises(ConfigError, match="client_secret"):
        load_settings(settings(tmp_path, drop))


def test_webhook_secret_is_required(tmp_path):
    def drop(c):
        del c["providers"][0]["webhook_secret"]

    with pytest.raises(ConfigError, match="webhook_secret"):
        create_app(settings(tmp_path, drop))


def test_empty_secret_is_refused(tmp_path):
    def empty(c):
        c["providers"][0]["webhook_secret"] = ""

    with pytest.raises(ConfigError, match="webhook_secret"):
        load_settings(settings(tmp_path, empty))


def test_env_secret_must_be_set(tmp_path):
    def env_ref(c):
        c["providers"][0]["client_secret"] = "env:OM_TEST_UNSET_SECRET"

    with pytest.raises(ConfigError, match="OM_TEST_UNSET_SECRET"):
        load_settings(settings(tmp_path, env_ref))


def test_signature_verification_cannot_be_turned_off(tmp_path):
    def disable(c):
        c["providers"][0]["verify_signature"] = False

    with pytest.raises(ConfigError, match="verify_signature"):
        load_settings(settings(tmp_path, disable))


def test_eventbridge_key_required_when_http_end_request_flag_is_on(tmp_path):
    environ = dict(demo_environ())
    del environ["GENESYS_EVENTBRIDGE_HANDOVER_API_KEY"]
    with pytest.raises(StartupError, match="GENESYS_EVENTBRIDGE_HANDOVER_API_KEY"):
        create_app(settings(tmp_path, environ=environ))
    environ["FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST"] = "false"
    create_app(settings(tmp_path, environ=environ)).extensions["om-bridge"].close()


def test_default_flags_are_cognigy_defaults(tmp_path):
    _config, flags, _ = load_settings(settings(tmp_path, environ={}))
    assert flags.refusal("demo", "production") is not None  # the provider is off until enabled


def test_bad_store_url_stops_start_up_naming_the_key(tmp_path):
    def bad(c):
        c["bridge"]["store"] = "sqlite://relative-without-slash.db"

    with pytest.raises(ConfigError, match="bridge.store"):
        create_app(settings(tmp_path, bad))


def test_unusable_data_dir_stops_start_up_naming_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    def under_file(c):
        c["bridge"]["store"] = f"sqlite:///{blocker}/om-bridge.db"

    with pytest.raises(StartupError, match="cannot create the data directory"):
        create_app(settings(tmp_path, under_file))


def _demo_file(tmp_path, mutate=None) -> str:
    config = demo_config("http://127.0.0.1:8080", "http://127.0.0.1:8081", tmp_path / "data")
    if mutate:
        mutate(config)
    path = tmp_path / "demo.toml"
    path.write_text(tomli_w.dumps(config))
    return str(path)


def test_demo_config_is_complete_without_any_environment(tmp_path):
    # What `om-bridge demo` writes must run as it is from a fresh shell: flags and the
    # EventBridge key live in the file's [features] table.
    config, flags, _ = load_settings({"config_path": _demo_file(tmp_path), "environ": {}})
    assert flags.refusal("demo", "production") is None
    assert flags.use_http_end_handover_request and flags.handle_bot_message
    assert flags.eventbridge_api_key == "demo-eventbridge-key"
    assert config.features["FEATURE_ENABLE_GENESYS_CLOUD_OM"] == "true"


def test_environment_overrides_the_features_table(tmp_path):
    path = _demo_file(tmp_path)
    _c, flags, _ = load_settings(
        {
            "config_path": path,
            "environ": {
                "FEATURE_ENABLE_GENESYS_CLOUD_OM": "false",
                "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY": "key-from-environment",
            },
        }
    )
    assert flags.refusal("demo", "production") is not None
    assert flags.eventbridge_api_key == "key-from-environment"


def test_features_table_values_are_checked_and_named(tmp_path):
    def bad(c):
        c["features"]["FEATURE_ENABLE_GENESYS_CLOUD_OM"] = "maybe"
        c["features"]["FEATURE_NO_SUCH_FLAG"] = True

    with pytest.raises(ConfigError) as info:
        load_settings({"config_path": _demo_file(tmp_path, bad), "environ": {}})
    text = str(info.value)
    assert "features.FEATURE_ENABLE_GENESYS_CLOUD_OM" in text
    assert "features.FEATURE_NO_SUCH_FLAG: unknown key" in text


def test_features_eventbridge_key_accepts_env_reference(tmp_path):
    def env_ref(c):
        c["features"]["GENESYS_EVENTBRIDGE_HANDOVER_API_KEY"] = "env:OM_TEST_EB_KEY"

    path = _demo_file(tmp_path, env_ref)
    _c, flags, _ = load_settings({"config_path": path, "environ": {"OM_TEST_EB_KEY": "eb-key-x"}})
    assert flags.eventbridge_api_key == "eb-key-x"
    with pytest.raises(ConfigError, match="OM_TEST_EB_KEY"):
        load_settings({"config_path": path, "environ": {}})


def test_every_credential_field_accepts_env(tmp_path):
    def env_refs(c):
        p = c["providers"][0]
        p["client_id"] = "env:OM_TEST_CLIENT_ID"
        p["client_secret"] = "env:OM_TEST_CLIENT_SECRET"
        p["webhook_secret"] = "env:OM_TEST_WEBHOOK_SECRET"
        p["completion"] = "webhook"
        p["data_action_auth"] = {
            "type": "basic",
            "username": "env:OM_TEST_DA_USER",
            "password": "env:OM_TEST_DA_PASSWORD",
        }

    environ = {
        "OM_TEST_CLIENT_ID": "client-from-env",
        "OM_TEST_CLIENT_SECRET": "client-secret-from-env",
        "OM_TEST_WEBHOOK_SECRET": "webhook-secret-from-env-0123",
        "OM_TEST_DA_USER": "da-user-from-env",
        "OM_TEST_DA_PASSWORD": "da-password-from-env",
    }
    path = _demo_file(tmp_path, env_refs)
    config, _f, _ = load_settings({"config_path": path, "environ": environ})
    p = config.providers["genesys-demo"]
    assert p.client_id == "client-from-env"  # not the literal "env:OM_TEST_CLIENT_ID"
    assert p.client_secret.reveal() == "client-secret-from-env"
    assert p.webhook_secret.reveal() == "webhook-secret-from-env-0123"
    assert p.data_action_auth.username == "da-user-from-env"
    assert p.data_action_auth.password.reveal() == "da-password-from-env"
    with pytest.raises(ConfigError, match="OM_TEST_CLIENT_ID"):
        load_settings({"config_path": path, "environ": {**environ, "OM_TEST_CLIENT_ID": ""}})


def test_short_webhook_secret_stops_start_up(tmp_path):
    def short(c):
        c["providers"][0]["webhook_secret"] = "fifteen-chars-x"  # 15 characters

    with pytest.raises(StartupError, match="at least 16 characters") as info:
        load_settings({"config_path": _demo_file(tmp_path, short), "environ": {}})
    assert "fifteen-chars-x" not in str(info.value)
    # 16 characters is enough
    ok = _demo_file(tmp_path, lambda c: c["providers"][0].update(webhook_secret="x" * 16))
    load_settings({"config_path": ok, "environ": {}})


def test_scheme_less_copilot_base_url_gets_https(tmp_path):
    def copilot(c):
        c["endpoints"][0]["copilot_base_url"] = "copilot.example.com/base/"

    config, _f, _ = load_settings({"config_path": _demo_file(tmp_path, copilot), "environ": {}})
    assert config.endpoints["demo"].copilot_base_url == "https://copilot.example.com/base/"


def test_unknown_flow_stops_start_up_naming_the_endpoint(tmp_path):
    def unknown(c):
        c["endpoints"][0]["flow"] = "no-such-flow"

    with pytest.raises(
        StartupError,
        match=r"endpoints\[0\]\.flow \(endpoint 'demo'\): no flow chart 'no-such-flow'",
    ):
        load_settings({"config_path": _demo_file(tmp_path, unknown), "environ": {}})


def test_invalid_node_config_stops_start_up_naming_endpoint_and_node(tmp_path):
    import json

    from om_bridge.flows import __file__ as flows_init

    chart = json.loads((Path(flows_init).parent / "demo-bot.json").read_text())
    say = next(n for n in chart["nodes"] if n["_id"] == "say-hello")
    say["config"]["handoverOutput"] = "everyone"
    flow_file = tmp_path / "broken-bot.json"
    flow_file.write_text(json.dumps(chart))

    def broken(c):
        c["endpoints"][0]["flow"] = str(flow_file)

    with pytest.raises(StartupError) as info:
        load_settings({"config_path": _demo_file(tmp_path, broken), "environ": {}})
    text = str(info.value)
    assert (
        "endpoints[0].flow (endpoint 'demo')" in text
        and "(id say-hello)" in text
        and '"Greeting"' in text
    )
    assert "handoverOutput" in text


def test_a_flow_that_cannot_work_stops_start_up_naming_the_node(tmp_path):
    import json
    from pathlib import Path

    demo = Path(__file__).resolve().parents[3] / "flows" / "demo-bot.json"
    chart = json.loads(demo.read_text(encoding="utf-8"))
    handover = next(n for n in chart["nodes"] if n["type"] == "handoverV2")
    handover["config"]["genesysPriority"] = 1.5
    flow = tmp_path / "bad-flow.json"
    flow.write_text(json.dumps(chart), encoding="utf-8")

    def use_it(c):
        c["endpoints"][0]["flow"] = str(flow)

    with pytest.raises(ConfigError) as exc:
        create_app(settings(tmp_path, use_it))
    assert "endpoints[0].flow" in str(exc.value)
    assert "(id handover): config.genesysPriority" in str(exc.value)


def test_create_app_leaves_the_root_logger_and_exit_handlers_alone(tmp_path):
    """Embedding the bridge in another app changes no process-wide state: no root handler or
    level change, no atexit handler; the configuration's secrets still reach the redaction
    filter."""
    import atexit
    import logging

    from om_bridge.bridge.logs import redaction_filter

    (tmp_path / "warm").mkdir()
    create_app(settings(tmp_path / "warm")).extensions["om-bridge"].close()  # first imports
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    registered: list = []
    before = atexit._ncallbacks()
    original = atexit.register

    def recording(*a, **k):  # type: ignore[no-untyped-def]
        registered.append(a)
        return original(*a, **k)

    atexit.register = recording  # type: ignore[assignment]
    try:
        app = create_app(settings(tmp_path))
    finally:
        atexit.register = original  # type: ignore[assignment]
    try:
        assert root.handlers == handlers and root.level == level
        assert registered == [] and atexit._ncallbacks() == before
        assert redaction_filter().redact("secret bridge-secret-0123456789") == "secret ***"
    finally:
        app.extensions["om-bridge"].close()


def test_configure_logging_masks_the_configurations_secrets(tmp_path):
    import io
    import logging

    from om_bridge.bridge.app import configure_logging

    config, flags, _ = load_settings(settings(tmp_path))
    stream = io.StringIO()
    root = logging.getLogger()
    configure_logging(config, flags, stream=stream)
    try:
        logging.getLogger("om_bridge.test").warning(
            "login failed: %s / %s", "bridge-secret-0123456789", "demo-eventbridge-key"
        )
    finally:
        for h in [h for h in root.handlers if getattr(h, "_om_bridge", False)]:
            root.removeHandler(h)
    out = stream.getvalue()
    assert "login failed: *** / ***" in out
    assert "bridge-secret-0123456789" not in out and "demo-eventbridge-key" not in out
