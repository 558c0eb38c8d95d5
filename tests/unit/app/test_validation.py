"""Endpoint input validation against schemas/endpoint-input.json: errors name the field."""

from __future__ import annotations

import json

import pytest

from om_bridge.bridge.endpoint.validation import MAX_BODY_BYTES, InputError, parse_input


def raw(body) -> bytes:
    return json.dumps(body).encode()


def test_valid_text_and_data_inputs():
    assert parse_input(raw({"userId": "u", "sessionId": "s", "text": "hi"}))["text"] == "hi"
    assert parse_input(raw({"userId": "u", "sessionId": "s", "data": {"a": 1}}))["data"] == {"a": 1}


@pytest.mark.parametrize(
    "body, path, fragment",
    [
        ({"sessionId": "s", "text": "hi"}, "userId", "'userId' is a required property"),
        ({"userId": "u", "text": "hi"}, "sessionId", "'sessionId' is a required property"),
        ({"userId": 5, "sessionId": "s", "text": "hi"}, "userId", "is not of type 'string'"),
        ({"userId": "", "sessionId": "s", "text": "hi"}, "userId", "should be non-empty"),
        ({"userId": "u", "sessionId": "s", "data": [1]}, "data", "is not of type 'object', 'null'"),
    ],
)
def test_field_errors_name_the_field(body, path, fragment):
    with pytest.raises(InputError) as err:
        parse_input(raw(body))
    assert err.value.status == 400
    assert err.value.path == path
    assert str(err.value).startswith(f"{path}: ")
    assert fragment in str(err.value)


def test_neither_text_nor_data():
    with pytest.raises(InputError, match='at least one of "text"') as err:
        parse_input(raw({"userId": "u", "sessionId": "s"}))
    assert err.value.status == 400


def test_not_json_and_not_object():
    with pytest.raises(InputError, match="not valid JSON"):
        parse_input(b"{nope")
    with pytest.raises(InputError, match="is not of type 'object'"):
        parse_input(b"[]")


def test_too_large():
    body = raw({"userId": "u", "sessionId": "s", "text": "x" * (MAX_BODY_BYTES + 1)})
    with pytest.raises(InputError) as err:
        parse_input(body)
    assert err.value.status == 413
