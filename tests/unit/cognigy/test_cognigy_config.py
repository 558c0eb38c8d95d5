"""`[[cognigy_endpoints]]`: the endpoint service is the normal route, the v2.0 API a legacy one,
exactly one of the two; a Copilot host without a scheme gets https:// as in `endpoints[]`."""

from __future__ import annotations

import pytest

from om_bridge.bridge.config import ConfigError, load_config

ENTRY = {"url_token": "cg", "organisation": "o"}


def load(**entry: object):  # type: ignore[no-untyped-def]
    return load_config(None, {}, {"cognigy_endpoints": [{**ENTRY, **entry}]})


def test_the_endpoint_service_route_needs_no_key():
    endpoint = load(endpoint_base_url="https://endpoint-trial.cognigy.ai/").cognigy_endpoints["cg"]
    assert endpoint.endpoint_base_url == "https://endpoint-trial.cognigy.ai"
    assert endpoint.uses_transformers and not endpoint.uses_legacy_api


def test_the_legacy_api_route():
    endpoint = load(
        api_base_url="https://api-trial.cognigy.ai", api_key="the-key-0123"
    ).cognigy_endpoints["cg"]
    assert endpoint.uses_legacy_api and endpoint.api_key is not None


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"api_base_url": "https://api-trial.cognigy.ai"},
        {
            "endpoint_base_url": "https://endpoint-trial.cognigy.ai",
            "api_base_url": "https://api-trial.cognigy.ai",
            "api_key": "k",
        },
    ],
)
def test_exactly_one_route(entry):
    with pytest.raises(ConfigError, match="endpoint_base_url"):
        load(**entry)


def test_a_scheme_less_copilot_host_gets_https():
    config = load(
        endpoint_base_url="https://endpoint-trial.cognigy.ai",
        copilot_base_url="copilot.example.com/base/",
    )
    assert config.cognigy_endpoints["cg"].copilot_base_url == "https://copilot.example.com/base/"
    kept = load(endpoint_base_url="https://e.example", copilot_base_url="http://c.example")
    assert kept.cognigy_endpoints["cg"].copilot_base_url == "http://c.example"
