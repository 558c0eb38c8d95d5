"""Notifications API REST conformance: channels, subscriptions, limits, topic validation, and the
official SDK (`NotificationsApi`) as the client."""

from __future__ import annotations

import base64
import time

import pytest
import requests
from PureCloudPlatformClientV2 import ChannelTopic, NotificationsApi
from PureCloudPlatformClientV2.rest import ApiException

from om_bridge.sandbox.server import SandboxServer
from tests.sandbox.sdk_strict import StrictApiClient

BRIDGE = ("bridge-client", "bridge-secret-0123456789")
CONSOLE = ("agent-console", "agent-console-secret")
AGENT = ("alex@example.com", "demo-agent-password")
CID = "7b1e3c52-9d0a-4a57-8e0f-0d6b2f3c9a11"


@pytest.fixture
def server():
    srv = SandboxServer(config={"notifications": {"max_channels": 3, "max_topics": 5}})
    srv.start()
    yield srv
    srv.stop()


def token(server, client=BRIDGE, user=None) -> str:
    basic = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    form = {"grant_type": "client_credentials"}
    if user:
        form = {"grant_type": "password", "username": user[0], "password": user[1]}
    resp = requests.post(
        f"{server.url}/oauth/token",
        data=form,
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


class Api:
    """requests with a bearer token against the sandbox."""

    def __init__(self, server, bearer: str) -> None:
        self.base = server.url
        self.headers = {"Authorization": f"Bearer {bearer}"}

    def __call__(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, self.base + path, headers=self.headers, timeout=5, **kw)


def channel_topic(topic: str) -> ChannelTopic:
    item = ChannelTopic()
    item.id = topic
    return item


def detail(suffix: str, cid: str = CID) -> str:
    return f"v2.detail.events.conversation.{cid}.{suffix}"


def test_create_channel_shape(server):
    api = Api(server, token(server))
    resp = api("POST", "/api/v2/notifications/channels")
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"connectUri", "id", "expires"}
    assert body["id"].startswith("streaming-")
    host = server.url.split("://", 1)[1]
    assert body["connectUri"] == f"ws://{host}/channels/{body['id']}"
    # 24 h lifetime, ISO-8601 with milliseconds
    expires = time.mktime(time.strptime(body["expires"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert 86400 - 120 < expires - time.time() <= 86400 + 1
    assert api("HEAD", f"/api/v2/notifications/channels/{body['id']}").status_code == 200
    assert api("HEAD", "/api/v2/notifications/channels/streaming-0-nope").status_code == 404


def test_channels_require_a_bearer_token(server):
    resp = requests.post(f"{server.url}/api/v2/notifications/channels", timeout=5)
    assert resp.status_code == 401
    assert resp.json()["code"] == "authentication.required"


def test_sdk_round_trip(server):
    client = StrictApiClient(host=server.url).get_client_credentials_token(*BRIDGE)
    api = NotificationsApi(client)
    channel = api.post_notifications_channels()
    assert channel.id and channel.connect_uri.endswith(channel.id)
    assert channel.expires is not None and channel.expires.tzinfo is not None

    put = api.put_notifications_channel_subscriptions(
        channel.id, [channel_topic(detail("customer.end")), channel_topic(detail("user.end"))]
    )
    assert [(t.id, t.state) for t in put.entities] == [
        (detail("customer.end"), "Permitted"),
        (detail("user.end"), "Permitted"),
    ]
    post = api.post_notifications_channel_subscriptions(channel.id, [channel_topic(detail("acw"))])
    assert [t.id for t in post.entities] == [
        detail("customer.end"),
        detail("user.end"),
        detail("acw"),
    ]
    got = api.get_notifications_channel_subscriptions(channel.id)
    assert [t.id for t in got.entities] == [t.id for t in post.entities]
    api.head_notifications_channel(channel.id)  # raises on 404
    listing = api.get_notifications_channels()
    assert [c.id for c in listing.entities] == [channel.id]
    api.delete_notifications_channel_subscriptions(channel.id)
    assert api.get_notifications_channel_subscriptions(channel.id).entities == []
    topics = api.get_notifications_availabletopics()
    ids = {t.id for t in topics.entities}
    assert "v2.detail.events.conversation.{id}.customer.end" in ids
    assert "v2.routing.queues.{id}.conversations.messages" in ids
    with pytest.raises(ApiException) as info:
        api.head_notifications_channel("streaming-0-unknown")
    assert info.value.status == 404


def test_put_replaces_and_post_adds(server):
    api = Api(server, token(server))
    cid = api("POST", "/api/v2/notifications/channels").json()["id"]
    path = f"/api/v2/notifications/channels/{cid}/subscriptions"
    api("PUT", path, json=[{"id": detail("customer.end")}, {"id": detail("acw")}])
    resp = api("PUT", path, json=[{"id": detail("user.end")}])
    assert [e["id"] for e in resp.json()["entities"]] == [detail("user.end")]
    resp = api("POST", path, json=[{"id": detail("customer.end")}, {"id": detail("user.end")}])
    assert [e["id"] for e in resp.json()["entities"]] == [
        detail("user.end"),
        detail("customer.end"),
    ]


def test_topic_limit_is_400_and_changes_nothing(server):
    api = Api(server, token(server))
    cid = api("POST", "/api/v2/notifications/channels").json()["id"]
    path = f"/api/v2/notifications/channels/{cid}/subscriptions"
    five = [{"id": detail("customer.end", f"c{i}")} for i in range(5)]
    assert api("PUT", path, json=five).status_code == 200
    resp = api("POST", path, json=[{"id": detail("customer.end", "c-sixth")}])
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "bad.request" and body["status"] == 400 and body["contextId"]
    assert "5" in body["message"] and body["limit"]["value"] == 5
    assert len(api("GET", path).json()["entities"]) == 5


def test_default_limit_is_1000_topics():
    with SandboxServer() as srv:
        api = Api(srv, token(srv))
        cid = api("POST", "/api/v2/notifications/channels").json()["id"]
        path = f"/api/v2/notifications/channels/{cid}/subscriptions"
        topics = [{"id": detail("customer.end", f"c{i}")} for i in range(1000)]
        assert api("PUT", path, json=topics).status_code == 200
        resp = api("POST", path, json=[{"id": detail("customer.end", "c1000")}])
        assert resp.status_code == 400
        assert "1000" in resp.json()["message"]


def test_bad_subscription_bodies(server):
    api = Api(server, token(server))
    cid = api("POST", "/api/v2/notifications/channels").json()["id"]
    path = f"/api/v2/notifications/channels/{cid}/subscriptions"
    api("PUT", path, json=[{"id": detail("acw")}])
    for bad in ({"id": detail("acw")}, [{"topic": "x"}], ["v2.x"], [{"id": ""}]):
        resp = api("PUT", path, json=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["code"] == "bad.request"
    resp = api("PUT", path, json=[{"id": "v2.conversations.messages.abc"}])
    assert resp.status_code == 400
    assert "v2.conversations.messages.abc" in resp.json()["message"]
    resp = api("PUT", path, json=[{"id": "channel.metadata"}])
    assert resp.status_code == 400
    # nothing changed
    assert [e["id"] for e in api("GET", path).json()["entities"]] == [detail("acw")]
    unknown = "/api/v2/notifications/channels/streaming-0-zz/subscriptions"
    assert api("GET", unknown).status_code == 404


def test_user_topics_need_the_current_user_or_permission(server):
    agent = Api(server, token(server, CONSOLE, AGENT))
    me = agent("GET", "/api/v2/users/me").json()["id"]
    cid = agent("POST", "/api/v2/notifications/channels").json()["id"]
    path = f"/api/v2/notifications/channels/{cid}/subscriptions"
    resp = agent("PUT", path, json=[{"id": f"v2.users.{me}.conversations.messages"}])
    assert resp.json()["entities"][0]["state"] == "Permitted"
    # Detail topics need analytics:conversationDetail:view, which the agent role lacks.
    resp = agent("POST", path, json=[{"id": detail("customer.end")}])
    assert resp.status_code == 403
    assert resp.json()["code"] == "missing.permissions"
    resp = agent("POST", path + "?ignoreErrors=true", json=[{"id": detail("customer.end")}])
    assert resp.status_code == 200
    rejected = [e for e in resp.json()["entities"] if e["state"] == "Rejected"]
    assert rejected[0]["id"] == detail("customer.end")
    assert rejected[0]["missingPermissions"] == ["analytics:conversationDetail:view"]
    subscribed = [e["id"] for e in agent("GET", path).json()["entities"]]
    assert subscribed == [f"v2.users.{me}.conversations.messages"]


def test_channel_limit_evicts_least_recently_used(server):
    api = Api(server, token(server))
    ids = [api("POST", "/api/v2/notifications/channels").json()["id"] for _ in range(3)]
    # Using the first channel makes the second the least recently used.
    api(
        "PUT",
        f"/api/v2/notifications/channels/{ids[0]}/subscriptions",
        json=[{"id": detail("acw")}],
    )
    fourth = api("POST", "/api/v2/notifications/channels").json()["id"]
    alive = [
        c
        for c in ids + [fourth]
        if api("HEAD", f"/api/v2/notifications/channels/{c}").status_code == 200
    ]
    assert alive == [ids[0], ids[2], fourth]


def test_channel_limit_is_per_user_and_client(server):
    bridge = Api(server, token(server))
    agent = Api(server, token(server, CONSOLE, AGENT))
    mine = [bridge("POST", "/api/v2/notifications/channels").json()["id"] for _ in range(3)]
    agent("POST", "/api/v2/notifications/channels")
    for c in mine:
        assert bridge("HEAD", f"/api/v2/notifications/channels/{c}").status_code == 200
    # another client's channel is invisible
    assert agent("HEAD", f"/api/v2/notifications/channels/{mine[0]}").status_code == 404


def test_list_channels_per_token_or_oauth_client(server):
    first, second = Api(server, token(server)), Api(server, token(server))
    a = first("POST", "/api/v2/notifications/channels").json()["id"]
    second("POST", "/api/v2/notifications/channels")
    mine = first("GET", "/api/v2/notifications/channels").json()["entities"]
    assert [c["id"] for c in mine] == [a]
    listing = first("GET", "/api/v2/notifications/channels?includechannels=oauthclient").json()
    assert len(listing["entities"]) == 2
    assert [c.get("id") for c in listing["entities"]] == [a, None]  # other token's id hidden
    bad = first("GET", "/api/v2/notifications/channels?includechannels=everything")
    assert bad.status_code == 400


def test_expired_channel_is_gone(server):
    api = Api(server, token(server))
    cid = api("POST", "/api/v2/notifications/channels").json()["id"]
    resp = requests.post(
        f"{server.url}/sandbox/notifications/expire", json={"channelIds": [cid]}, timeout=5
    )
    assert resp.json()["channels"] == [cid]
    assert api("HEAD", f"/api/v2/notifications/channels/{cid}").status_code == 404
    assert api("GET", f"/api/v2/notifications/channels/{cid}/subscriptions").status_code == 404


def test_channel_ttl_from_config():
    with SandboxServer(config={"notifications": {"channel_ttl_seconds": 0.3}}) as srv:
        api = Api(srv, token(srv))
        cid = api("POST", "/api/v2/notifications/channels").json()["id"]
        assert api("HEAD", f"/api/v2/notifications/channels/{cid}").status_code == 200
        from tests.conftest import wait_until

        wait_until(
            lambda: api("HEAD", f"/api/v2/notifications/channels/{cid}").status_code == 404,
            what="channel expiry",
        )


def test_bad_notifications_config_names_the_key():
    from om_bridge.sandbox.config import ConfigError
    from om_bridge.sandbox.notifications import NotificationSettings

    with pytest.raises(ConfigError, match="notifications.heartbeat_secs"):
        NotificationSettings.from_section({"heartbeat_secs": 5})
    with pytest.raises(ConfigError, match="notifications.max_topics"):
        NotificationSettings.from_section({"max_topics": "many"})
    assert NotificationSettings.from_section(None).max_channels == 20
