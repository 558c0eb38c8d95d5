"""Client calls: integration lookup, Open Messaging sends, users, notifications, timeouts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from genesys_testkit import API, FakeClock, add_token, api_calls, body_of, make_client, token_calls
from responses import matchers

from om_bridge.bridge.genesys import Customer, GenesysClient, IntegrationNotFoundError

INTEGRATIONS = API + "/api/v2/conversations/messaging/integrations/open"
INBOUND = API + "/api/v2/conversations/messages/int-1/inbound/open"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock():
    return FakeClock()


def add_pages(rsps, names_per_page: list[list[str]]) -> None:
    count = len(names_per_page)
    for number, names in enumerate(names_per_page, start=1):
        rsps.add(
            responses.GET,
            INTEGRATIONS,
            match=[matchers.query_param_matcher({"pageSize": "25", "pageNumber": str(number)})],
            json={
                "entities": [{"id": f"id-{n}", "name": n} for n in names],
                "pageSize": 25,
                "pageNumber": number,
                "pageCount": count,
                "total": sum(map(len, names_per_page)),
            },
        )


def test_integration_found_on_third_page(rsps, clock):
    add_token(rsps)
    add_pages(rsps, [["a", "b"], ["c"], ["om-bridge-demo"]])
    assert make_client(clock).integration_id_for("om-bridge-demo") == "id-om-bridge-demo"
    assert len(api_calls(rsps)) == 3


def test_list_stops_at_empty_page_without_page_count(rsps, clock):
    add_token(rsps)
    rsps.add(
        responses.GET,
        INTEGRATIONS,
        match=[matchers.query_param_matcher({"pageSize": "25", "pageNumber": "1"})],
        json={"entities": [{"id": "1", "name": "x"}]},
    )
    # No pageCount at all: the client must not loop forever.
    assert [e["id"] for e in make_client(clock).list_integrations()] == ["1"]
    assert len(api_calls(rsps)) == 1


def test_not_found_lists_names_of_all_pages(rsps, clock):
    add_token(rsps)
    add_pages(rsps, [["alpha", "beta"], ["gamma"], ["delta"]])
    with pytest.raises(IntegrationNotFoundError) as info:
        make_client(clock).integration_id_for("missing")
    assert info.value.available == ["alpha", "beta", "gamma", "delta"]
    for name in ("missing", "alpha", "beta", "gamma", "delta"):
        assert name in str(info.value)


def test_lookup_cached_and_forgettable(rsps, clock):
    add_token(rsps)
    add_pages(rsps, [["dep"]])
    client = make_client(clock)
    assert client.integration_id_for("dep") == "id-dep"
    assert client.integration_id_for("dep") == "id-dep"
    assert len(api_calls(rsps)) == 1
    client.forget_integration("dep")
    client.integration_id_for("dep")
    assert len(api_calls(rsps)) == 2


def test_exact_name_wins_over_case_insensitive(rsps, clock):
    add_token(rsps)
    add_pages(rsps, [["My-Dep", "my-dep"]])
    client = make_client(clock)
    assert client.integration_id_for("my-dep") == "id-my-dep"
    assert client.integration_id_for("MY-DEP") == "id-My-Dep"


def test_create_patch_delete_integration(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INTEGRATIONS, json={"id": "new", "createStatus": "Initiated"})
    rsps.add(responses.PATCH, INTEGRATIONS + "/new", json={"id": "new"})
    rsps.add(responses.DELETE, INTEGRATIONS + "/new", status=204)
    client = make_client(clock)
    client.create_integration(
        "dep",
        "https://bridge.example/handover/genesysCloudOM",
        "0123456789abcdef",
        webhook_headers={"X-Env": "prod"},
        supported_content_id="sc-1",
        messaging_setting_id="ms-1",
    )
    client.patch_integration("new", webhook_url="https://b2.example/h", name="dep2")
    assert client.delete_integration("new") is None
    create, patch = body_of(api_calls(rsps)[0]), body_of(api_calls(rsps)[1])
    webhook = "https://bridge.example/handover/genesysCloudOM"
    assert create == {
        "name": "dep",
        "outboundNotificationWebhookUrl": webhook,
        "outboundNotificationWebhookSignatureSecretToken": "0123456789abcdef",
        "webhookHeaders": {"X-Env": "prod"},
        "supportedContent": {"id": "sc-1"},
        "messagingSetting": {"id": "ms-1"},
    }
    assert patch == {"outboundNotificationWebhookUrl": "https://b2.example/h", "name": "dep2"}


def test_integration_input_validated_locally(rsps, clock):
    client = make_client(clock)
    with pytest.raises(ValueError, match="longer than 15"):
        client.create_integration("dep", "https://x.example/h", "short")
    with pytest.raises(ValueError, match="Unknown integration field 'colour'"):
        client.patch_integration("id", colour="red")
    assert len(rsps.calls) == 0


def test_send_message_body_and_prefetch(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/message", json={"id": "g1", "conversationId": "conv-1"})
    customer = Customer(
        "cust-1", id_type="opaque", nickname="Jane D.", first_name="Jane", last_name="Doe"
    )
    when = datetime(2025, 5, 2, 11, 31, 22, 733999, tzinfo=timezone(timedelta(hours=2)))
    result = make_client(clock).send_message(
        "int-1",
        customer,
        message_id="m-1",
        text="Hello",
        time=when,
        custom_attributes={
            "language": "english",
            "priority": 1,
            "vip": True,
            "skills": ["a", "b"],
            "none": None,
        },
        metadata={"k": 2},
    )
    assert result["conversationId"] == "conv-1"
    call = api_calls(rsps)[0]
    assert call.request.url == INBOUND + "/message?prefetchConversationId=true"
    assert body_of(call) == {
        "channel": {
            "messageId": "m-1",
            "from": {
                "id": "cust-1",
                "idType": "Opaque",
                "nickname": "Jane D.",
                "firstName": "Jane",
                "lastName": "Doe",
            },
            "time": "2025-05-02T09:31:22.733Z",
            "metadata": {
                "customAttributes": {
                    "language": "english",
                    "priority": "1",
                    "vip": "true",
                    "skills": '["a","b"]',
                }
            },
        },
        "text": "Hello",
        "metadata": {"k": "2"},
    }


def test_send_message_without_prefetch(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/message", json={"id": "g1"})
    make_client(clock).send_message(
        "int-1", Customer("c"), message_id="m", text="x", prefetch_conversation_id=False
    )
    assert api_calls(rsps)[0].request.url == INBOUND + "/message"
    assert body_of(api_calls(rsps)[0])["channel"]["time"].endswith("Z")


def test_message_id_identical_across_retries(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/message", status=503, json={})
    rsps.add(responses.POST, INBOUND + "/message", body=requests.ConnectionError("reset"))
    rsps.add(responses.POST, INBOUND + "/message", status=502, json={})
    rsps.add(responses.POST, INBOUND + "/message", json={"id": "g1"})
    make_client(clock).send_message("int-1", Customer("c"), message_id="fixed-id", text="x")
    calls = api_calls(rsps)
    assert len(calls) == 4
    assert {body_of(c)["channel"]["messageId"] for c in calls} == {"fixed-id"}
    assert len({c.request.body for c in calls}) == 1  # the very same bytes, time included


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({}, "needs text or content"),
        ({"text": ""}, "needs text or content"),
        ({"text": "x", "message_id": ""}, "message_id is required"),
        ({"text": "x", "time": "yesterday"}, "ISO-8601"),
    ],
)
def test_send_message_validated_locally(rsps, clock, kwargs, error):
    kwargs.setdefault("message_id", "m")
    with pytest.raises(ValueError, match=error):
        make_client(clock).send_message("int-1", Customer("c"), **kwargs)
    assert len(rsps.calls) == 0


def test_customer_id_type_validation():
    assert Customer("a@b.c", id_type="EMAIL").to_wire()["idType"] == "Email"
    with pytest.raises(ValueError, match="Email, Phone or Opaque"):
        Customer("x", id_type="Facebook").to_wire()


def test_send_typing(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/event", json={"id": "e1"})
    make_client(clock).send_typing("int-1", Customer("c"), time="2025-01-01T00:00:00Z")
    assert body_of(api_calls(rsps)[0]) == {
        "channel": {"from": {"id": "c", "idType": "Opaque"}, "time": "2025-01-01T00:00:00.000Z"},
        "events": [{"eventType": "Typing"}],
    }


def test_send_receipt(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/receipt", json={"id": "g9"})
    client = make_client(clock)
    client.send_receipt(
        "int-1",
        "g9",
        "cust-1",
        "failed",
        time="2025-01-01T00:00:00.5+00:00",
        reasons=[{"code": "GeneralError", "message": "user unreachable"}],
    )
    assert body_of(api_calls(rsps)[0]) == {
        "id": "g9",
        "channel": {"to": {"id": "cust-1"}, "time": "2025-01-01T00:00:00.500Z"},
        "status": "Failed",
        "isFinalReceipt": True,
        "reasons": [{"code": "GeneralError", "message": "user unreachable"}],
    }
    with pytest.raises(ValueError, match="Delivered' or 'Failed"):
        client.send_receipt("int-1", "g9", "cust-1", "Read")
    assert len(api_calls(rsps)) == 1


def test_send_structured_response(rsps, clock):
    add_token(rsps)
    rsps.add(responses.POST, INBOUND + "/structured/response", json={"id": "s1"})
    make_client(clock).send_structured_response(
        "int-1",
        Customer("c"),
        message_id="ext-1",
        text="Yes",
        payload="yes-payload",
        originating_message_id="g7",
        time="2025-01-01T00:00:00Z",
    )
    assert body_of(api_calls(rsps)[0]) == {
        "channel": {
            "messageId": "ext-1",
            "from": {"id": "c", "idType": "Opaque"},
            "time": "2025-01-01T00:00:00.000Z",
        },
        "buttonResponse": {"type": "QuickReply", "text": "Yes", "payload": "yes-payload"},
        "originatingMessageId": "g7",
    }


def test_conversation_participant_queue_routes(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/conversations/messages/c1", json={"id": "c1"})
    rsps.add(responses.GET, API + "/api/v2/conversations/c1", json={"id": "c1", "x": 1})
    rsps.add(
        responses.PATCH,
        API + "/api/v2/conversations/messages/c1/participants/p1",
        status=202,
        body="",
    )
    rsps.add(responses.GET, API + "/api/v2/routing/queues/q1", json={"id": "q1"})
    client = make_client(clock)
    assert client.get_message_conversation("c1") == {"id": "c1"}
    assert client.get_conversation("c1") == {"id": "c1", "x": 1}
    assert client.patch_participant("c1", "p1", {"state": "disconnected"}) is None
    assert body_of(api_calls(rsps)[2]) == {"state": "disconnected"}
    assert client.get_queue("q1") == {"id": "q1"}


def test_path_ids_are_quoted(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/routing/queues/..%2Fusers%2Fme", json={"id": "q"})
    make_client(clock).get_queue("../users/me")
    assert api_calls(rsps)[0].request.url == API + "/api/v2/routing/queues/..%2Fusers%2Fme"


def test_user_cache_with_ttl(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1", "name": "Alex Agent"})
    client = make_client(clock, user_cache_ttl=100.0)
    assert client.get_user("u1")["name"] == "Alex Agent"
    clock.advance(99)
    client.get_user("u1")
    assert len(api_calls(rsps)) == 1
    clock.advance(2)
    client.get_user("u1")
    assert len(api_calls(rsps)) == 2


def test_notification_channel_and_subscriptions(rsps, clock):
    add_token(rsps)
    channels = API + "/api/v2/notifications/channels"
    rsps.add(
        responses.POST,
        channels,
        json={"id": "ch1", "connectUri": "wss://x/ch1", "expires": "2025-01-02T00:00:00Z"},
    )
    rsps.add(responses.PUT, channels + "/ch1/subscriptions", json={"entities": [{"id": "t1"}]})
    rsps.add(responses.POST, channels + "/ch1/subscriptions", json={"entities": [{"id": "t2"}]})
    rsps.add(responses.GET, channels + "/ch1/subscriptions", json={"entities": [{"id": "t1"}]})
    rsps.add(responses.HEAD, channels + "/ch1", status=200)
    rsps.add(responses.HEAD, channels + "/gone", status=404)
    client = make_client(clock)
    assert client.create_channel()["connectUri"] == "wss://x/ch1"
    client.subscribe("ch1", ["t1", "t1b"], replace=True)
    client.subscribe("ch1", ["t2"], replace=False)
    assert client.get_subscriptions("ch1") == {"entities": [{"id": "t1"}]}
    assert client.channel_exists("ch1") is True
    assert client.channel_exists("gone") is False
    calls = api_calls(rsps)
    assert [c.request.method for c in calls] == ["POST", "PUT", "POST", "GET", "HEAD", "HEAD"]
    assert body_of(calls[1]) == [{"id": "t1"}, {"id": "t1b"}]
    assert body_of(calls[2]) == [{"id": "t2"}]


def test_timeout_on_every_call(rsps, clock):
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1"})
    rsps.add(responses.HEAD, API + "/api/v2/notifications/channels/c", status=404)
    client = make_client(clock, timeout=(1.5, 4.0))
    client.get_user("u1")
    client.channel_exists("c")
    assert len(rsps.calls) == 3
    assert [c.request.req_kwargs["timeout"] for c in rsps.calls] == [(1.5, 4.0)] * 3


def test_default_client_has_a_pooled_session(clock):
    client = GenesysClient("mypurecloud.de", "id", "secret")
    adapter = client.session.get_adapter("https://api.mypurecloud.de")
    assert adapter._pool_maxsize >= 16
    assert client.session.get_adapter("http://127.0.0.1:8081") is adapter
    client.close()


def test_given_session_is_used_for_token_and_api(rsps, clock):
    class CountingSession(requests.Session):
        def __init__(self):
            super().__init__()
            self.urls: list[str] = []

        def request(self, method, url, *args, **kwargs):
            self.urls.append(url)
            return super().request(method, url, *args, **kwargs)

    session = CountingSession()
    add_token(rsps)
    rsps.add(responses.GET, API + "/api/v2/users/u1", json={"id": "u1"})
    client = make_client(clock, session=session)
    client.get_user("u1")
    assert client.session is session
    assert [u.split("?")[0] for u in session.urls] == [
        "https://login.mypurecloud.de/oauth/token",
        API + "/api/v2/users/u1",
    ]
    assert len(token_calls(rsps)) == 1


def test_base_url_override_sends_token_and_api_to_it(rsps, clock):
    base = "http://127.0.0.1:8081"
    rsps.add(responses.POST, base + "/oauth/token", json={"access_token": "t", "expires_in": 60})
    rsps.add(responses.GET, base + "/api/v2/users/u1", json={"id": "u1"})
    client = GenesysClient(None, "id", "secret", base_url=base)
    assert client.get_user("u1") == {"id": "u1"}
    assert client.hosts.region is None
