"""`CognigyClient` and `transcript.entries` against a real recording HTTP server: request shapes,
the API key header, and how each answer is classified for the outbox."""

from __future__ import annotations

import json

import pytest

from om_bridge.bridge.cognigy import transcript
from om_bridge.bridge.cognigy.client import CognigyClient, CognigyError
from om_bridge.bridge.config import CognigyEndpoint, Secret
from tests.browser import Receiver


def api_endpoint(url: str) -> CognigyEndpoint:
    return CognigyEndpoint(
        url_token="tok", organisation="o", api_base_url=url, api_key=Secret("the-key-123")
    )


def test_inject_and_notify_go_to_the_api_with_the_key():
    with Receiver() as receiver:
        client = CognigyClient(api_endpoint(receiver.url))
        client.send("inject", client.body("u1", "s1", None, {"handover": {"status": "queue"}}))
        client.send("notify", client.body("u1", "s1", "Hi", {"agent": {"name": "Alex"}}))
        first, second = receiver.requests
    assert first.path == "/new/v2.0/endpoint/inject" and second.path == "/new/v2.0/endpoint/notify"
    assert first.headers["X-API-Key"] == "the-key-123"
    assert first.json() == {
        "URLToken": "tok",
        "userId": "u1",
        "sessionId": "s1",
        "text": "",
        "data": {"handover": {"status": "queue"}},
    }
    assert second.json()["text"] == "Hi"


def test_bodies_always_carry_text_and_data():
    client = CognigyClient(api_endpoint("http://127.0.0.1:9"))
    for call in ("inject", "notify"):
        body = client.body("u", "s", None, None, call)
        assert body["text"] == "" and body["data"] == {}, call


def test_a_notify_carries_agent_files_and_details_as_cognigy_defines_them():
    client = CognigyClient(api_endpoint("http://127.0.0.1:9"))
    genesys = [
        {"mediaType": "Image", "url": "https://f/a.png", "mime": "image/png", "filename": "a.png"},
        {"mediaType": "File", "url": "https://f/l.pdf", "mime": "application/pdf", "text": "Label"},
        {"mediaType": "Video", "mime": "video/mp4"},  # no URL: nothing to show
    ]
    data = {"attachments": genesys, "agent": {"name": "Alex", "avatar": "https://f/alex.png"}}
    body = client.body("u", "s", "Label", data, "notify")
    assert body["attachments"] == [
        {"type": "image", "url": "https://f/a.png", "name": "a.png"},
        {"type": "file", "url": "https://f/l.pdf", "name": "l.pdf", "caption": "Label"},
    ]
    assert "attachments" not in body["data"]
    assert body["data"]["_webchat"] == {
        "agentAvatarOverrideNameOnce": "Alex",
        "agentAvatarOverrideUrlOnce": "https://f/alex.png",
    }
    assert body["data"]["agent"] == {"name": "Alex", "avatar": "https://f/alex.png"}
    # An Inject keeps data as given (the flow reads it).
    assert client.body("u", "s", "", {"attachments": genesys}, "inject")["data"] == {
        "attachments": genesys
    }


def test_transformer_urls_carry_no_key():
    with Receiver() as receiver:
        endpoint = CognigyEndpoint(
            url_token="tok", organisation="o", endpoint_base_url=receiver.url
        )
        client = CognigyClient(endpoint)
        client.send("notify", client.body("u", "s", "x", None))
        [request] = receiver.requests
    assert request.path == "/notify/tok" and "X-API-Key" not in request.headers


@pytest.mark.parametrize(
    "status, headers, retryable, auth, retry_after",
    [
        (429, {"Retry-After": "3"}, True, False, 3.0),
        (503, {}, True, False, None),
        (401, {}, True, True, None),
        (403, {}, True, True, None),
        (400, {}, False, False, None),
        (404, {}, False, False, None),
    ],
)
def test_answers_are_classified(status, headers, retryable, auth, retry_after):
    with Receiver(script=[(status, headers)]) as receiver:
        client = CognigyClient(api_endpoint(receiver.url))
        with pytest.raises(CognigyError) as caught:
            client.send("inject", client.body("u", "s", "x", None))
    err = caught.value
    assert (err.status, err.retryable, err.auth, err.retry_after) == (
        status,
        retryable,
        auth,
        retry_after,
    )
    assert "the-key-123" not in str(err)


def test_a_connection_error_is_retryable():
    client = CognigyClient(api_endpoint("http://127.0.0.1:9"))
    with pytest.raises(CognigyError) as caught:
        client.send("notify", client.body("u", "s", "x", None))
    assert caught.value.status is None and caught.value.retryable


def test_transcript_entries_accept_cognigy_steps_and_source_turns():
    steps = [
        {"role": "user", "type": "input", "payload": {"text": "hi", "data": {}}},
        {"role": "assistant", "type": "output", "payload": {"text": "Hello!", "data": {"a": 1}}},
        {"role": "system", "payload": {"text": "internal"}},
        {"source": "bot", "text": "legacy turn"},
        "garbage",
    ]
    assert transcript.entries(steps) == [
        {"source": "user", "text": "hi", "data": None},
        {"source": "bot", "text": "Hello!", "data": {"a": 1}},
        {"source": "bot", "text": "legacy turn", "data": None},
    ]
    assert transcript.entries({"not": "a list"}) == []
    assert json.dumps(transcript.entries([{"role": "user"}] * 500)).count("user") == 200
