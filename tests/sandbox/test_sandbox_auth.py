"""Login host errors, bearer-token checks, token expiry, the permission model and `/users/me`."""

from __future__ import annotations

import pytest
import requests
from sandbox_testkit import BRIDGE, INTEGRATION, auth, inbound, start, token

from om_bridge.sandbox import seed
from tests.conftest import wait_until

LIST = "/api/v2/conversations/messaging/integrations/open"


@pytest.fixture
def server():
    srv = start(
        {
            "seed": {
                "roles": [{"id": "no-users", "permissions": ["messaging:integration:view"]}],
                "clients": [
                    {
                        "id": "limited-client",
                        "secret": "limited-secret-0123456789",
                        "roles": ["no-users"],
                        "grants": ["client_credentials"],
                    },
                    {
                        "id": "short-lived",
                        "secret": "short-lived-secret-0123",
                        "roles": ["bridge"],
                        "expires_in": 1,
                    },
                ],
            }
        }
    )
    yield srv
    srv.stop()


def _token_call(url: str, client: tuple[str, str] | None, **form: str) -> requests.Response:
    return requests.post(f"{url}/oauth/token", auth=client, data=form, timeout=5)


def test_client_credentials_token(server):
    resp = _token_call(server.url, BRIDGE, grant_type="client_credentials")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400 and body["access_token"]


def test_token_errors_use_oauth_shape(server):
    resp = _token_call(server.url, ("nobody", "x"), grant_type="client_credentials")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_client",
        "description": "client not found",
        "error_description": "client not found",
    }
    resp = _token_call(server.url, (BRIDGE[0], "wrong"), grant_type="client_credentials")
    assert resp.status_code == 401 and resp.json()["description"] == "authentication failed"
    resp = _token_call(
        server.url,
        BRIDGE,
        grant_type="password",
        username=seed.DEMO_AGENT_USERNAME,
        password=seed.DEMO_AGENT_PASSWORD,
    )
    assert resp.status_code == 400 and resp.json()["error"] == "unauthorized_client"
    resp = _token_call(server.url, BRIDGE, grant_type="authorization_code")
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"


def test_password_grant_and_users_me(server):
    console = (seed.AGENT_CONSOLE_CLIENT_ID, seed.AGENT_CONSOLE_CLIENT_SECRET)
    bad = _token_call(
        server.url,
        console,
        grant_type="password",
        username=seed.DEMO_AGENT_USERNAME,
        password="nope",
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    ok = _token_call(
        server.url,
        console,
        grant_type="password",
        username=seed.DEMO_AGENT_USERNAME,
        password=seed.DEMO_AGENT_PASSWORD,
    )
    me = requests.get(
        f"{server.url}/api/v2/users/me", headers=auth(ok.json()["access_token"]), timeout=5
    )
    assert me.status_code == 200
    assert me.json()["id"] == seed.DEMO_AGENT_ID and me.json()["name"] == "Alex Agent"
    assert me.json()["organization"]["id"] == seed.DEMO_ORG_ID
    # client-credential tokens have no user context
    cc = requests.get(f"{server.url}/api/v2/users/me", headers=auth(token(server.url)), timeout=5)
    assert cc.status_code == 400 and cc.json()["code"] == "bad.request"


def test_missing_and_bad_bearer(server):
    resp = requests.get(server.url + LIST, timeout=5)
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == "authentication.required" and body["status"] == 401
    assert body["contextId"] and body["message"].startswith("No authentication bearer token")
    resp = requests.get(server.url + LIST, headers=auth("not-a-token"), timeout=5)
    assert resp.status_code == 401 and resp.json()["code"] == "bad.credentials"
    # the gate covers every /api/v2 route, even unknown ones
    resp = requests.get(server.url + "/api/v2/nothing/here", timeout=5)
    assert resp.status_code == 401


def test_expired_token(server):
    tok = token(server.url, ("short-lived", "short-lived-secret-0123"))
    assert requests.get(server.url + LIST, headers=auth(tok), timeout=5).status_code == 200

    def expired() -> bool:
        resp = requests.get(server.url + LIST, headers=auth(tok), timeout=5)
        return resp.status_code == 401 and resp.json()["code"] == "credentials.expired"

    wait_until(expired, timeout=5, what="token expiry")


def test_missing_permission_is_403_naming_it(server):
    tok = token(server.url, ("limited-client", "limited-secret-0123456789"))
    assert requests.get(server.url + LIST, headers=auth(tok), timeout=5).status_code == 200
    resp = inbound(server.url, tok, "cust-403")
    assert resp.status_code == 403
    body = resp.json()
    assert body["code"] == "missing.permissions"
    assert "conversation:message:create" in body["message"]
    assert body["messageParams"] == {"permissions": "conversation:message:create"}
    # nothing changed
    assert server.sandbox.store.conversations == {}
    resp = requests.get(
        f"{server.url}/api/v2/users/{seed.DEMO_AGENT_ID}", headers=auth(tok), timeout=5
    )
    assert resp.status_code == 403 and "directory:user:view" in resp.json()["message"]


def test_agent_cannot_act_on_other_agents_leg_or_set_their_status(server):
    console = (seed.AGENT_CONSOLE_CLIENT_ID, seed.AGENT_CONSOLE_CLIENT_SECRET)
    alex = _token_call(
        server.url,
        console,
        grant_type="password",
        username=seed.DEMO_AGENT_USERNAME,
        password=seed.DEMO_AGENT_PASSWORD,
    ).json()["access_token"]
    before = server.sandbox.store.users[seed.SECOND_AGENT_ID]["routing_status"]
    resp = requests.put(
        f"{server.url}/api/v2/users/{seed.SECOND_AGENT_ID}/routingstatus",
        json={"status": "OFF_QUEUE" if before == "IDLE" else "IDLE"},
        headers=auth(alex),
        timeout=5,
    )
    assert resp.status_code == 403 and resp.json()["code"] == "missing.permissions"
    assert server.sandbox.store.users[seed.SECOND_AGENT_ID]["routing_status"] == before
    _ = INTEGRATION
