"""Feature flags: every variable parsed under Cognigy's name; refusal for each switch."""

from __future__ import annotations

import dataclasses

import pytest

from om_bridge.bridge.flags import VARIABLES, FlagError, Flags, Whitelist

BOOLEAN_FLAGS = {
    "enable_genesys_cloud_om": "FEATURE_ENABLE_GENESYS_CLOUD_OM",
    "handle_bot_message": "GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE",
    "filter_unsupported_messages": "FEATURE_FILTER_UNSUPPORTED_MESSAGES_HANDOVER_PROVIDER",
    "filter_empty_messages": "FEATURE_FILTER_EMPTY_MESSAGES_HANDOVER_PROVIDER",
    "use_http_end_handover_request": "FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST",
    "skip_eventbridge_organization_id_check": "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK",
}
ALL_ON = {
    "FEATURE_ENABLE_GENESYS_CLOUD_OM": "true",
    "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "*",
    "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "*",
}


def test_defaults_are_cognigys() -> None:
    flags = Flags.from_env({})
    assert flags == Flags()
    assert not any(getattr(flags, f) for f in BOOLEAN_FLAGS)
    assert flags.genesys_cloud_om_whitelist == Whitelist()
    assert flags.bot_connector_endpoint_whitelist == Whitelist()
    assert flags.acw_after_transfer_timeout_ms == 10000
    assert flags.eventbridge_api_key is None
    assert set(VARIABLES.values()) >= set(BOOLEAN_FLAGS.values())


@pytest.mark.parametrize("field, var", sorted(BOOLEAN_FLAGS.items()))
@pytest.mark.parametrize(
    "raw, value",
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_each_boolean_flag_is_parsed(field: str, var: str, raw: str, value: bool) -> None:
    assert getattr(Flags.from_env({var: raw}), field) is value


@pytest.mark.parametrize("var", sorted(BOOLEAN_FLAGS.values()))
def test_an_unparseable_boolean_names_the_variable(var: str) -> None:
    with pytest.raises(FlagError, match=var) as info:
        Flags.from_env({var: "enabled"})
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "field, var",
    [
        ("genesys_cloud_om_whitelist", "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST"),
        (
            "bot_connector_endpoint_whitelist",
            "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST",
        ),
    ],
)
def test_whitelists_are_comma_lists_or_star(field: str, var: str) -> None:
    listed = getattr(Flags.from_env({var: "org1, org2,,"}), field)
    assert listed.names == {"org1", "org2"} and not listed.everyone
    assert listed.allows("org2") and not listed.allows("org3") and not listed.allows("")
    everyone = getattr(Flags.from_env({var: "*"}), field)
    assert everyone.everyone and everyone.allows("anything")
    assert not getattr(Flags.from_env({var: ""}), field).allows("org1")


def test_acw_timeout_milliseconds() -> None:
    var = "GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS"
    assert Flags.from_env({var: "2500"}).acw_after_transfer_timeout_ms == 2500
    assert Flags.from_env({var: "0"}).acw_after_transfer_timeout_ms == 0
    for bad in ("ten", "-5", "1.5"):
        with pytest.raises(FlagError, match=var):
            Flags.from_env({var: bad})


def test_eventbridge_api_key_is_a_secret() -> None:
    flags = Flags.from_env({"GENESYS_EVENTBRIDGE_HANDOVER_API_KEY": "eb-key-value"})
    assert flags.eventbridge_api_key.reveal() == "eb-key-value"
    assert "eb-key-value" not in repr(flags) and "eb-key-value" not in str(flags)


def test_flags_are_frozen_and_overridable() -> None:
    flags = Flags.from_env(ALL_ON)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flags.handle_bot_message = True  # type: ignore[misc]
    changed = flags.with_overrides(
        handle_bot_message=True, genesys_cloud_om_whitelist="a,b", eventbridge_api_key="k"
    )
    assert changed.handle_bot_message and not flags.handle_bot_message
    assert changed.genesys_cloud_om_whitelist.names == {"a", "b"}
    assert changed.eventbridge_api_key.reveal() == "k"
    assert changed.with_overrides(
        bot_connector_endpoint_whitelist=["x"]
    ).bot_connector_endpoint_whitelist.names == {"x"}
    with pytest.raises(TypeError):
        flags.with_overrides(no_such_flag=True)


def test_refusal_is_none_when_every_switch_is_on() -> None:
    assert Flags.from_env(ALL_ON).refusal("acme", "production") is None
    listed = Flags.from_env(
        {
            **ALL_ON,
            "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "acme,beta",
            "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "acme",
        }
    )
    assert listed.refusal("acme", "production") is None


@pytest.mark.parametrize(
    "changes, environment, expected",
    [
        (
            {"FEATURE_ENABLE_GENESYS_CLOUD_OM": "false"},
            "production",
            'FEATURE_ENABLE_GENESYS_CLOUD_OM is not "true"',
        ),
        (
            {"FEATURE_ENABLE_GENESYS_CLOUD_OM": None},
            "production",
            'FEATURE_ENABLE_GENESYS_CLOUD_OM is not "true"',
        ),
        (
            {"FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "other"},
            "production",
            'organisation "acme" is not in FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST',
        ),
        (
            {"FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": None},
            "production",
            'organisation "acme" is not in FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST',
        ),
        (
            {"FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "other"},
            "production",
            'organisation "acme" is not in FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST',
        ),
        ({}, "trial", 'environment is "trial"'),
        ({}, "Trial", 'environment is "trial"'),
    ],
)
def test_refusal_names_the_switch_that_is_off(
    changes: dict, environment: str, expected: str
) -> None:
    env = {k: v for k, v in {**ALL_ON, **changes}.items() if v is not None}
    message = Flags.from_env(env).refusal("acme", environment)
    assert message is not None and expected in message


def test_refusal_checks_in_the_documented_order() -> None:
    everything_off = Flags()
    assert "FEATURE_ENABLE_GENESYS_CLOUD_OM is not" in everything_off.refusal("acme", "trial")
    on = everything_off.with_overrides(enable_genesys_cloud_om=True)
    assert "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST" in on.refusal("acme", "trial")
    listed = on.with_overrides(genesys_cloud_om_whitelist="*")
    assert "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST" in listed.refusal("acme", "trial")
    assert 'environment is "trial"' in listed.with_overrides(
        bot_connector_endpoint_whitelist="*"
    ).refusal("acme", "trial")
