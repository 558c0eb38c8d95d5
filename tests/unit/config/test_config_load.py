"""Configuration: file + environment + overrides, schema errors naming key paths, defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from om_bridge.bridge.config import (
    ConfigError,
    Secret,
    UnknownName,
    default_completion,
    load_config,
    parse_config,
)

PROVIDER = {
    "id": "genesys-demo",
    "type": "genesysCloudOM",
    "host": "mypurecloud.de",
    "deployment_name": "om-bridge-demo",
    "queue_id": "queue-1",
    "webhook_secret": "env:OM_WEBHOOK_SECRET",
    "client_id": "client-1",
    "client_secret": "env:GENESYS_CLIENT_SECRET",
}
ENDPOINT = {
    "url_token": "demo",
    "organisation": "demo",
    "flow": "demo-bot",
    "handover_provider": "genesys-demo",
}
ENV = {"OM_WEBHOOK_SECRET": "webhook-secret-value", "GENESYS_CLIENT_SECRET": "client-secret-value"}
TOML = """
[bridge]
public_url = "https://bridge.example.com/"
store = "sqlite:///./data/om-bridge.db"
environment = "production"
cognigy_version = "4.100"
log_level = "info"

[[endpoints]]
url_token = "demo"
organisation = "demo"
flow = "demo-bot"
handover_provider = "genesys-demo"
callback_url = "https://hooks.example.com/out"

[[providers]]
id = "genesys-demo"
type = "genesysCloudOM"
host = "mypurecloud.de"
deployment_name = "om-bridge-demo"
queue_id = "queue-1"
webhook_secret = "env:OM_WEBHOOK_SECRET"
client_id = "client-1"
client_secret = "env:GENESYS_CLIENT_SECRET"
send_profile = true
organization_id = "org-1"
"""


def data(**provider_changes) -> dict:
    return {"endpoints": [dict(ENDPOINT)], "providers": [{**PROVIDER, **provider_changes}]}


def errors_of(d: dict, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(d, ENV if environ is None else environ)
    assert all(e in str(info.value) for e in info.value.errors)
    return info.value.errors


def test_full_file_loads_into_typed_objects(tmp_path: Path) -> None:
    path = tmp_path / "om-bridge.toml"
    path.write_text(TOML)
    config = load_config(str(path), environ=ENV)
    assert config.bridge.public_url == "https://bridge.example.com"
    assert config.bridge.webhook_url == "https://bridge.example.com/handover/genesysCloudOM"
    assert config.bridge.log_level == "INFO"
    endpoint = config.endpoint("demo")
    assert (
        endpoint.flow,
        endpoint.handover_provider,
        endpoint.callback_url,
        endpoint.copilot_base_url,
    ) == ("demo-bot", "genesys-demo", "https://hooks.example.com/out", "")
    p = config.provider("genesys-demo")
    assert p.client_secret.reveal() == "client-secret-value"
    assert p.webhook_secret.reveal() == "webhook-secret-value"
    assert (p.host, p.base_url, p.send_profile, p.organization_id) == (
        "mypurecloud.de",
        None,
        True,
        "org-1",
    )
    assert p.completion is None and p.completion_mode == "eventbridge"
    assert config.endpoints["demo"] is endpoint and config.providers["genesys-demo"] is p


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no om-bridge.toml here: the default file is optional
    for path in (None, "om-bridge.toml"):
        config = load_config(path, environ={})
        assert (
            config.bridge.public_url,
            config.bridge.store,
            config.bridge.environment,
            config.bridge.cognigy_version,
            config.bridge.log_level,
        ) == (
            "http://127.0.0.1:8080",
            "sqlite:///./.om-bridge/om-bridge.db",
            "production",
            "4.100",
            "INFO",
        )
        assert dict(config.endpoints) == {} and dict(config.providers) == {}


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "elsewhere.toml"), environ={})


def test_bad_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[bridge]\npublic_url = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML.*line 2"):
        load_config(str(path), environ={})


def test_environment_overrides_the_file_and_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "om-bridge.toml"
    path.write_text(TOML)
    environ = {
        **ENV,
        "OM_BRIDGE_PUBLIC_URL": "http://10.0.0.1:9000",
        "OM_BRIDGE_STORE": "redis://cache:6379/2",
        "OM_BRIDGE_ENVIRONMENT": "trial",
        "OM_BRIDGE_LOG_LEVEL": "debug",
        "OM_BRIDGE_COGNIGY_VERSION": "4.99",
    }
    config = load_config(str(path), environ=environ)
    assert (
        config.bridge.public_url,
        config.bridge.store,
        config.bridge.environment,
        config.bridge.log_level,
        config.bridge.cognigy_version,
    ) == ("http://10.0.0.1:9000", "redis://cache:6379/2", "trial", "DEBUG", "4.99")
    assert config.provider("genesys-demo").completion_mode == "notifications"
    config = load_config(
        str(path),
        environ=environ,
        overrides={
            "bridge": {"store": "sqlite://:memory:"},
            "providers": [
                {"id": "genesys-demo", "completion": "eventbridge"},
                {**PROVIDER, "id": "second", "host": "mypurecloud.com"},
            ],
        },
    )
    assert config.bridge.store == "sqlite://:memory:"
    assert config.bridge.public_url == "http://10.0.0.1:9000"
    assert config.provider("genesys-demo").completion_mode == "eventbridge"
    assert config.provider("genesys-demo").queue_id == "queue-1"  # merged, not replaced
    assert config.provider("second").host == "mypurecloud.com"


@pytest.mark.parametrize(
    "version, mode",
    [
        ("4.100", "eventbridge"),
        ("4.101", "eventbridge"),
        ("2025.19", "eventbridge"),
        ("4.99", "notifications"),
        ("4.9", "notifications"),
        ("3.200", "notifications"),
    ],
)
def test_completion_default_follows_the_cognigy_version(version: str, mode: str) -> None:
    assert default_completion(version) == mode
    config = parse_config({**data(), "bridge": {"cognigy_version": version}}, ENV)
    assert config.provider("genesys-demo").completion_mode == mode


def test_explicit_completion_wins_over_the_version() -> None:
    config = parse_config(
        {**data(completion="notifications"), "bridge": {"cognigy_version": "4.100"}}, ENV
    )
    assert config.provider("genesys-demo").completion_mode == "notifications"


@pytest.mark.parametrize(
    "missing",
    ["id", "type", "deployment_name", "queue_id", "webhook_secret", "client_id", "client_secret"],
)
def test_each_required_provider_key_is_named(missing: str) -> None:
    d = data()
    del d["providers"][0][missing]
    assert errors_of(d) == [f"providers[0].{missing}: required"]


@pytest.mark.parametrize("missing", ["url_token", "organisation", "flow"])
def test_each_required_endpoint_key_is_named(missing: str) -> None:
    d = data()
    del d["endpoints"][0][missing]
    assert f"endpoints[0].{missing}: required" in errors_of(d)


@pytest.mark.parametrize(
    "bad, expected",
    [
        (
            {"bridge": {"public_url": "ftp://x"}},
            "bridge.public_url: must be an http:// or https://",
        ),
        ({"bridge": {"store": "postgres://db"}}, "bridge.store: must be sqlite:///path.db"),
        ({"bridge": {"cognigy_version": "latest"}}, "bridge.cognigy_version: must be a version"),
        ({"bridge": {"log_level": "chatty"}}, "bridge.log_level: must be one of"),
        ({"bridge": {"environment": ""}}, "bridge.environment: must not be empty"),
        ({"bridge": {"colour": "blue"}}, "bridge.colour: unknown key"),
        ({"extra": {}}, "extra: unknown key"),
        ({"bridge": "yes"}, "bridge: must be a table"),
        ({"endpoints": {"url_token": "x"}}, "endpoints: must be an array"),
    ],
)
def test_bad_bridge_values_name_their_key(bad: dict, expected: str) -> None:
    assert any(e.startswith(expected) for e in errors_of({**data(), **bad})), expected


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"type": "salesforce"}, 'providers[0].type: must be "genesysCloudOM"'),
        ({"base_url": "http://127.0.0.1:8081"}, "providers[0]: exactly one of host or base_url"),
        ({"host": None}, "providers[0]: exactly one of host or base_url"),
        ({"deployment_name": "has space"}, "providers[0].deployment_name: must be a name without"),
        ({"send_profile": "yes"}, "providers[0].send_profile: must be true or false"),
        ({"completion": "polling"}, "providers[0].completion: must be one of"),
        ({"client_secret": ""}, "providers[0].client_secret: must not be empty"),
        (
            {"data_action_auth": {"type": "basic", "username": "u"}},
            "providers[0].data_action_auth.password: required",
        ),
        (
            {"data_action_auth": {"type": "header", "name": "bad header", "value": "v"}},
            "providers[0].data_action_auth.name: must be an HTTP header name",
        ),
        (
            {"data_action_auth": {"type": "token"}},
            "providers[0].data_action_auth.type: must be one of",
        ),
        (
            {"data_action_auth": {"type": "basic", "username": "u", "password": "p", "name": "x"}},
            "providers[0].data_action_auth.name: unknown key",
        ),
    ],
)
def test_bad_provider_values_name_their_key(changes: dict, expected: str) -> None:
    d = data(**changes)
    d["providers"][0] = {k: v for k, v in d["providers"][0].items() if v is not None}
    assert any(e.startswith(expected) for e in errors_of(d)), expected


def test_base_url_instead_of_host() -> None:
    d = data(base_url="http://127.0.0.1:8081")
    del d["providers"][0]["host"]
    p = parse_config(d, ENV).provider("genesys-demo")
    assert (p.host, p.base_url) == (None, "http://127.0.0.1:8081")


def test_blank_host_or_base_url_means_not_set() -> None:
    p = parse_config(data(base_url=""), ENV).provider("genesys-demo")
    assert (p.host, p.base_url) == ("mypurecloud.de", None)
    d = data(host="", base_url="http://127.0.0.1:8081")
    d["endpoints"][0]["handover_provider"] = ""
    config = parse_config(d, ENV)
    assert config.provider("genesys-demo").host is None
    assert config.endpoint("demo").handover_provider is None
    assert errors_of(data(host="")) == ["providers[0]: exactly one of host or base_url is required"]


def test_cross_checks_name_both_sides() -> None:
    d = data()
    d["endpoints"][0]["handover_provider"] = "nobody"
    [error] = errors_of(d)
    assert error.startswith("endpoints[0].handover_provider:")
    assert "'demo'" in error and "'nobody'" in error
    d = data()
    d["endpoints"].append(dict(ENDPOINT))
    assert errors_of(d) == ["endpoints[1].url_token: duplicate endpoint url_token 'demo'"]
    d = data()
    d["providers"].append(dict(PROVIDER))
    assert errors_of(d) == ["providers[1].id: duplicate provider id 'genesys-demo'"]


def test_webhook_completion_takes_an_optional_data_action_auth() -> None:
    # Cognigy's data action sends no credential: without one, requests are checked with Genesys.
    assert (
        parse_config(data(completion="webhook"), ENV).provider("genesys-demo").data_action_auth
        is None
    )
    config = parse_config(
        data(
            completion="webhook",
            data_action_auth={"type": "header", "name": "X-Api-Key", "value": "env:DA_KEY"},
        ),
        {**ENV, "DA_KEY": "k"},
    )
    auth = config.provider("genesys-demo").data_action_auth
    assert (auth.type, auth.name, auth.value.reveal()) == ("header", "X-Api-Key", "k")
    config = parse_config(
        data(
            completion="webhook",
            data_action_auth={"type": "basic", "username": "genesys", "password": "literal-pw"},
        ),
        ENV,
    )
    auth = config.provider("genesys-demo").data_action_auth
    assert (auth.username, auth.password.reveal()) == ("genesys", "literal-pw")


def test_unknown_endpoint_or_provider_is_a_clear_error() -> None:
    config = parse_config(data(), ENV)
    with pytest.raises(UnknownName, match="no endpoint with url_token 'nope'"):
        config.endpoint("nope")
    with pytest.raises(UnknownName, match="no handover provider with id 'nope'"):
        config.provider("nope")
    with pytest.raises(KeyError):
        config.provider("nope")


def test_env_secrets_resolve_and_missing_variables_stop_start_up() -> None:
    errors = errors_of(data(), environ={"OM_WEBHOOK_SECRET": "x"})
    assert errors == [
        "providers[0].client_secret: environment variable GENESYS_CLIENT_SECRET is not set"
    ]
    errors = errors_of(data(), environ={"OM_WEBHOOK_SECRET": "", "GENESYS_CLIENT_SECRET": "y"})
    assert errors == [
        "providers[0].webhook_secret: environment variable OM_WEBHOOK_SECRET is empty"
    ]
    assert errors_of(data(client_secret="env:")) == [
        'providers[0].client_secret: "env:" needs a variable name'
    ]
    literal = parse_config(data(client_secret="plain-value"), ENV).provider("genesys-demo")
    assert literal.client_secret.reveal() == "plain-value"


def test_secrets_never_show_in_repr_str_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config(data(), ENV)
    p = config.provider("genesys-demo")
    assert isinstance(p.client_secret, Secret)
    for text in (
        repr(config),
        str(config),
        repr(p),
        str(p.client_secret),
        f"{p.client_secret}",
        "%s" % p.webhook_secret,  # noqa: UP031 (the formatting under test)
        format(p.webhook_secret, ">20"),
    ):
        assert "client-secret-value" not in text and "webhook-secret-value" not in text
    assert str(p.client_secret) == "***"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("provider %s secret %s", p, p.client_secret)
    assert "client-secret-value" not in caplog.text and "***" in caplog.text
    # An error about a secret names the key and the variable, never a value.
    errors = errors_of(data(webhook_secret="env:UNSET_VAR"))
    assert "webhook-secret-value" not in " ".join(errors)


def test_secret_compares_in_constant_time_and_is_not_hashable_or_picklable() -> None:
    import pickle

    s = Secret("abc")
    assert s == "abc" and s == Secret("abc") and s != "abd"
    with pytest.raises(TypeError):
        hash(s)
    with pytest.raises(TypeError):
        pickle.dumps(s)
