"""Payload parsing: clear 4xx naming the problem; constant-time credential comparison."""

from __future__ import annotations

import json

import pytest

from om_bridge.bridge.completion import dataaction, payloads
from om_bridge.bridge.config import DataActionAuth, Secret


def test_schema_error_names_the_path():
    body = {
        "version": "0",
        "id": "x",
        "detail-type": "t",
        "source": "aws.partner/genesys.com/cloud/o/s",
        "time": "t",
        "detail": {"topicName": "v2.x", "eventBody": {"conversationId": "c"}},
    }
    with pytest.raises(payloads.PayloadError) as info:
        payloads.parse(json.dumps(body).encode(), "eventbridge-event")
    assert info.value.status == 400
    assert info.value.body["path"] == "$['detail']['eventBody']"
    assert "'eventTime' is required" in info.value.body["message"]


def test_bad_json_and_size():
    with pytest.raises(payloads.PayloadError) as info:
        payloads.parse(b"{nope", "data-action")
    assert info.value.status == 400 and info.value.body["error"] == "invalid_json"
    with pytest.raises(payloads.PayloadError) as info:
        payloads.parse(b"x" * 20, "data-action", limit=10)
    assert info.value.status == 413


def test_data_action_bodies():
    assert payloads.parse(
        b'{"userId":"u","topic":"v2.detail.events.conversation.id.acw"}', "data-action"
    )
    assert payloads.parse(b'{"conversationId":"c","eventTime":1}', "data-action")
    with pytest.raises(payloads.PayloadError):
        payloads.parse(b'{"userId":"u"}', "data-action")


def test_same_secret():
    assert payloads.same_secret("k", "k")
    assert not payloads.same_secret("k2", "k") and not payloads.same_secret(None, "k")
    assert not payloads.same_secret("", "")


def test_credentials_basic_and_header():
    basic = DataActionAuth(type="basic", username="genesys", password=Secret("pw"))
    header = DataActionAuth(type="header", name="X-Api-Key", value=Secret("v"))
    providers = {
        "a": type("P", (), {"data_action_auth": basic})(),
        "b": type("P", (), {"data_action_auth": header})(),
        "c": type("P", (), {"data_action_auth": None})(),
    }
    assert dataaction.matching_providers(
        providers, {"Authorization": "Basic Z2VuZXN5czpwdw=="}
    ) == (True, {"a"})
    assert dataaction.matching_providers(providers, {"X-Api-Key": "v"}) == (True, {"b"})
    assert dataaction.matching_providers(providers, {"X-Api-Key": "w"}) == (True, set())
    assert dataaction.matching_providers({"c": providers["c"]}, {}) == (False, set())
