"""dump_config / write_config: TOML out, secrets as env: references or '***'."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from om_bridge.bridge.config import (
    ConfigError,
    dump_config,
    load_config,
    parse_config,
    write_config,
)

ENV = {"OM_WEBHOOK_SECRET": "webhook-secret-value", "DA_PASSWORD": "da-password-value"}
DATA = {
    "bridge": {"store": "redis://:redis-password@cache:6379/0", "cognigy_version": "4.99"},
    "endpoints": [
        {"url_token": "demo", "organisation": "demo", "flow": "demo-bot", "handover_provider": "p1"}
    ],
    "providers": [
        {
            "id": "p1",
            "type": "genesysCloudOM",
            "base_url": "http://127.0.0.1:8081",
            "deployment_name": "om-bridge-demo",
            "queue_id": "q",
            "webhook_secret": "env:OM_WEBHOOK_SECRET",
            "client_id": "c",
            "client_secret": "literal-client-secret",
            "completion": "webhook",
            "data_action_auth": {
                "type": "basic",
                "username": "genesys",
                "password": "env:DA_PASSWORD",
            },
        }
    ],
}


def test_dump_keeps_env_references_and_masks_literal_secrets() -> None:
    text = dump_config(parse_config(DATA, ENV))
    for secret in (
        "webhook-secret-value",
        "da-password-value",
        "literal-client-secret",
        "redis-password",
    ):
        assert secret not in text
    dumped = tomllib.loads(text)
    p = dumped["providers"][0]
    assert p["webhook_secret"] == "env:OM_WEBHOOK_SECRET"
    assert p["client_secret"] == "***"
    assert p["data_action_auth"] == {
        "type": "basic",
        "username": "genesys",
        "password": "env:DA_PASSWORD",
    }
    assert dumped["bridge"]["store"] == "redis://:***@cache:6379/0"
    assert dumped["bridge"]["cognigy_version"] == "4.99"
    assert p["completion"] == "webhook"


def test_revealed_dump_loads_back_to_the_same_config() -> None:
    config = parse_config(DATA, ENV)
    text = dump_config(config, reveal_secrets=True)
    assert "literal-client-secret" in text and "webhook-secret-value" not in text
    again = parse_config(tomllib.loads(text), ENV)
    assert again.provider("p1").client_secret.reveal() == "literal-client-secret"
    assert again.provider("p1").webhook_secret.reveal() == "webhook-secret-value"
    assert again.bridge == config.bridge
    assert again.endpoints == config.endpoints
    assert again.provider("p1").completion_mode == "webhook"


def test_dump_of_a_resolved_default_completion_pins_it() -> None:
    data = {**DATA, "providers": [{**DATA["providers"][0]}]}
    del data["providers"][0]["completion"]
    del data["providers"][0]["data_action_auth"]
    text = dump_config(parse_config(data, ENV))
    assert tomllib.loads(text)["providers"][0]["completion"] == "notifications"


def test_write_config_writes_owner_only_toml_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "data-dir" / "om-bridge.toml"
    write_config(path, DATA)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    config = load_config(str(path), environ=ENV)
    assert config.provider("p1").client_secret.reveal() == "literal-client-secret"
    write_config(path, {**DATA, "bridge": {"public_url": "http://127.0.0.1:9999"}})
    assert load_config(str(path), environ=ENV).bridge.public_url == "http://127.0.0.1:9999"
    assert [p.name for p in path.parent.iterdir()] == ["om-bridge.toml"]  # no temp files left


def test_write_config_refuses_invalid_data_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "om-bridge.toml"
    write_config(path, DATA)
    before = path.read_bytes()
    bad = {
        **DATA,
        "providers": [{k: v for k, v in DATA["providers"][0].items() if k != "queue_id"}],
    }
    with pytest.raises(ConfigError, match=r"providers\[0\]\.queue_id: required"):
        write_config(path, bad)
    assert path.read_bytes() == before


def with_store(store: str) -> dict:
    return {**DATA, "bridge": {**DATA["bridge"], "store": store}}


SENTINEL_URL = (
    "redis+sentinel://:node-pass@s1:26379,s2:26379,s3/mymaster/2?sentinel_password=sentinel-pass"
)


def test_the_store_url_may_come_from_the_environment_and_the_dump_keeps_the_reference() -> None:
    config = parse_config(with_store("env:OM_STORE_URL"), {**ENV, "OM_STORE_URL": SENTINEL_URL})
    assert config.bridge.store == SENTINEL_URL
    assert config.bridge.store_ref == "env:OM_STORE_URL"
    text = dump_config(config)
    assert "node-pass" not in text and "sentinel-pass" not in text
    assert tomllib.loads(text)["bridge"]["store"] == "env:OM_STORE_URL"
    # Revealed, the dump holds the URL itself and loads back to the same store.
    again = parse_config(tomllib.loads(dump_config(config, reveal_secrets=True)), ENV)
    assert again.bridge.store == SENTINEL_URL and again.bridge.store_ref is None


def test_a_literal_sentinel_url_is_dumped_without_its_passwords() -> None:
    dumped = tomllib.loads(dump_config(parse_config(with_store(SENTINEL_URL), ENV)))
    assert dumped["bridge"]["store"] == (
        "redis+sentinel://:***@s1:26379,s2:26379,s3/mymaster/2?sentinel_password=***"
    )


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({}, "environment variable OM_STORE_URL is not set"),
        ({"OM_STORE_URL": ""}, "OM_STORE_URL"),
        ({"OM_STORE_URL": "postgres://db/om"}, "does not hold a store URL"),
    ],
)
def test_an_env_store_reference_that_names_no_store_url_is_refused(
    environ: dict, error: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(with_store("env:OM_STORE_URL"), {**ENV, **environ})
    assert "bridge.store" in str(info.value) and error in str(info.value)
    assert "postgres://db/om" not in str(info.value)
