"""Property-based fuzzing of every public route of the bridge (Hypothesis, bounded in time).

One bridge runs for the whole module, wired to a real Genesys Cloud sandbox (`BridgeEnv`: a real
app served over real HTTP on a loopback port, SQLite store). Routes that answer at once are driven
through the app's Flask test client (the same WSGI app, without a socket per example); the SSE
route, which streams, and oversized bodies go over real HTTP. Every example asserts:

- no 5xx (the one exception: `/readyz` may answer 503, its meaning, when a check fails);
- a rejected request (4xx) changes nothing: the store's tables (sessions, handovers, dedupe,
  outbox, inbound, outputs; leader locks excluded) are the same before and after;
- memory stays bounded: the process' resident memory grows by far less than the bodies sent.

Hypothesis runs derandomized (the same examples every run) with small `max_examples`, so the suite
takes well under a minute and a half and never flakes on a new random draw.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from om_bridge.bridge.demo import DEMO_EVENTBRIDGE_KEY
from om_bridge.bridge.genesys.signature import compute_signature
from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.harness import BridgeEnv
from tests.scenario.webhook_replay import payload

DA_USER, DA_PASSWORD = "fuzz-da-user", "fuzz-da-password-0123"
EXT_KEY = "fuzz-ext-key-0123456789"
TABLES = ("sessions", "handovers", "dedupe", "outbox", "inbound", "outputs")
FUZZ = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BridgeEnv]:
    bridge = BridgeEnv(
        tmp_path_factory.mktemp("fuzz"),
        flags={"DATA_ACTION_PASSWORD": DA_PASSWORD, "OM_EXT_KEY": EXT_KEY},
        config={
            "bridge": {"extension_api_key": "env:OM_EXT_KEY"},
            "providers": [
                {
                    "id": "genesys-demo",
                    "data_action_auth": {
                        "type": "basic",
                        "username": DA_USER,
                        "password": "env:DATA_ACTION_PASSWORD",
                    },
                }
            ],
        },
    )
    try:
        yield bridge
    finally:
        bridge.close()


@pytest.fixture(scope="module")
def baseline_rss(env: BridgeEnv) -> int:
    return _rss_kb()


def snapshot(env: BridgeEnv) -> dict[str, list]:
    """Every row of the state tables, read through a connection of its own."""
    path = env.config["bridge"]["store"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:  # never a new, empty file
        return {t: sorted(map(repr, c.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}


def quiet(env: BridgeEnv) -> None:
    """Wait until the background workers have nothing left to do (accepted items handled)."""
    store = env.ctx.store
    wait_until(
        lambda: not store.inbound_pending() and not store.outbox_pending(),
        30,
        what="the bridge's queues to drain",
    )


def check(env: BridgeEnv, send: Any, *, may_be_503: bool = False) -> Any:
    """Send one request (`send()` returns a response with `.status_code`) and assert the rules."""
    quiet(env)
    before = snapshot(env)
    resp = send()
    status = resp.status_code
    assert status < 500 or (may_be_503 and status == 503), (status, _text(resp))
    if 400 <= status < 500:
        assert snapshot(env) == before, f"a rejected request ({status}) changed the store"
    return resp


def _text(resp: Any) -> str:
    data = resp.get_data(as_text=True) if hasattr(resp, "get_data") else resp.text
    return data[:300]


# -- strategies --------------------------------------------------------------------------------
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)
SPECIAL = [
    b"",
    b"null",
    b"[" * 600 + b"]" * 600,
    b'{"a":' * 300 + b"1" + b"}" * 300,
    b'{"userId":"u","sessionId":"s","text":"x","data":{"n":' + b"9" * 5000 + b"}}",
    b'{"userId":"u","sessionId":"s","text":"x","data":{"n":1e999}}',
    b'{"userId":"u","sessionId":"s","text":NaN}',
    b'{"userId":"\\ud800","sessionId":"s","text":"x"}',
    b'{"userId":"u","sessionId":"s","text":"\\udfff"}',
    b"\xff\xfe\x00",
    b'{"userId":"u","sessionId":"s","text":"' + b"x" * 70_000 + b'"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"userId":"u","sessionId":"s","text":"x","data":' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"userId":"u","sessionId":"s","text":"x","data":{"\\ud800":1}}',
]
SPECIAL_BODIES = st.sampled_from(SPECIAL)
INPUTS = st.fixed_dictionaries(
    {"userId": JSON | SAFE_TEXT, "sessionId": JSON | SAFE_TEXT},
    optional={"text": JSON | st.text(max_size=40), "data": JSON},
)


def as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


BODIES = st.binary(max_size=100) | SPECIAL_BODIES | JSON.map(as_bytes) | INPUTS.map(as_bytes)
TOKENS = st.sampled_from(["demo", "nope", "%00", "demo/../demo"])


# -- the endpoint channel ------------------------------------------------------------------------
@FUZZ
@given(token=TOKENS, body=BODIES)
def test_endpoint_input(env: BridgeEnv, baseline_rss: int, token: str, body: bytes) -> None:
    client = env.app.test_client()
    check(
        env,
        lambda: client.post(
            f"/endpoint/{token}", data=body, headers={"Content-Type": "application/json"}
        ),
    )


QUERY = st.dictionaries(
    st.sampled_from(["userId", "after", "wait", "x"]),
    st.one_of(
        SAFE_TEXT,
        st.sampled_from(["0", "-1", "1e999", "nan", "inf", "0.01", "²", "9" * 40, ""]),
    ),
    max_size=4,
)


@FUZZ
@given(token=TOKENS, session=SAFE_TEXT.filter(bool), query=QUERY)
def test_outputs_long_poll(
    env: BridgeEnv, baseline_rss: int, token: str, session: str, query: dict
) -> None:
    client = env.app.test_client()
    check(
        env,
        lambda: client.get(
            f"/endpoint/{token}/sessions/{quote(session, safe='')}/outputs", query_string=query
        ),
    )


@settings(FUZZ, max_examples=15)
@given(
    query=QUERY,
    last_event_id=st.one_of(st.none(), st.sampled_from(["", "5", "-1", "x", "9" * 30, "1e3"])),
)
def test_events_stream(
    env: BridgeEnv, baseline_rss: int, query: dict, last_event_id: str | None
) -> None:
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}

    def send() -> requests.Response:
        resp = requests.get(
            env.session_url("/events"), params=query, headers=headers, stream=True, timeout=10
        )
        resp.close()  # a stream that opened is enough: its content is tested elsewhere
        return resp

    check(env, send)


@FUZZ
@given(
    action=st.sampled_from(["connect", "disconnect", "typing"]),
    session=SAFE_TEXT.filter(bool),
    body=BODIES,
    query=QUERY,
)
def test_session_events(
    env: BridgeEnv, baseline_rss: int, action: str, session: str, body: bytes, query: dict
) -> None:
    client = env.app.test_client()
    check(
        env,
        lambda: client.post(
            f"/endpoint/demo/sessions/{quote(session, safe='')}/{action}",
            data=body,
            query_string=query,
        ),
    )


# -- Genesys: webhook, EventBridge, data action ---------------------------------------------------
WEBHOOK_FIELDS = st.dictionaries(
    st.sampled_from(
        ["id", "type", "text", "direction", "conversationId", "content", "events", "channel"]
    ),
    JSON,
    max_size=3,
)
CHANNEL_FIELDS = st.dictionaries(
    st.sampled_from(["id", "platform", "type", "to", "from", "time", "messageId"]),
    JSON | st.sampled_from(["2000-01-01T00:00:00Z", "not a time", "\ud800"]),
    max_size=3,
)


@FUZZ
@given(
    top=WEBHOOK_FIELDS,
    channel=CHANNEL_FIELDS,
    event=st.sampled_from(
        ["outbound_text", "outbound_typing", "outbound_receipt", "outbound_quickreply"]
    ),
)
def test_signed_webhook(
    env: BridgeEnv, baseline_rss: int, top: dict, channel: dict, event: str
) -> None:
    body = payload(event, customer_id=f"fuzz-{uuid.uuid4().hex[:8]}", conversation_id="c-fuzz")
    body.update(top)
    if isinstance(body.get("channel"), dict):
        body["channel"].update(channel)
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(seed.DEMO_WEBHOOK_SECRET, raw),
    }
    client = env.app.test_client()
    check(env, lambda: client.post("/handover/genesysCloudOM", data=raw, headers=headers))


AUTH = st.sampled_from(["none", "good", "bad", "signature-bad"])


def _auth_headers(kind: str, good: dict[str, str]) -> dict[str, str]:
    if kind == "good":
        return good
    if kind == "bad":
        return {name: value + "x" for name, value in good.items()}
    if kind == "signature-bad":
        return {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    return {}


@FUZZ
@given(auth=AUTH, body=BODIES | JSON.map(lambda v: as_bytes({"detail": v, "source": v})))
def test_eventbridge(env: BridgeEnv, baseline_rss: int, auth: str, body: bytes) -> None:
    headers = _auth_headers(auth, {"Authorization": DEMO_EVENTBRIDGE_KEY})
    client = env.app.test_client()
    check(
        env,
        lambda: client.post("/handover/genesysCloudOM/eventbridge", data=body, headers=headers),
    )


@FUZZ
@given(
    auth=AUTH,
    body=BODIES
    | st.fixed_dictionaries(
        {"conversationId": JSON | SAFE_TEXT}, optional={"topic": JSON, "eventBody": JSON}
    ).map(as_bytes),
)
def test_data_action(env: BridgeEnv, baseline_rss: int, auth: str, body: bytes) -> None:
    basic = base64.b64encode(f"{DA_USER}:{DA_PASSWORD}".encode()).decode()
    headers = _auth_headers(auth, {"Authorization": f"Basic {basic}"})
    client = env.app.test_client()
    check(env, lambda: client.post("/handover/genesysCloudOM", data=body, headers=headers))


def post_routes() -> dict[str, dict[str, str]]:
    basic = base64.b64encode(f"{DA_USER}:{DA_PASSWORD}".encode()).decode()
    return {
        "/endpoint/demo": {},
        "/endpoint/demo/sessions/s/connect": {},
        "/endpoint/demo/sessions/s/disconnect": {},
        "/endpoint/demo/sessions/s/typing": {},
        "/handover/genesysCloudOM": {"Authorization": f"Basic {basic}"},
        "/handover/genesysCloudOM/eventbridge": {"Authorization": DEMO_EVENTBRIDGE_KEY},
        "/extension/v1/execute": {"Authorization": f"Bearer {EXT_KEY}"},
        "signed": {},
    }


@pytest.mark.parametrize("body", SPECIAL, ids=[f"special-{i}" for i in range(len(SPECIAL))])
def test_special_bodies_on_every_post_route(env: BridgeEnv, baseline_rss: int, body: bytes) -> None:
    """Every hostile body of the list on every POST route, each one always (not left to chance)."""
    client = env.app.test_client()
    for path, headers in post_routes().items():
        if path == "signed":
            path = "/handover/genesysCloudOM"
            headers = {"X-Hub-Signature-256": compute_signature(seed.DEMO_WEBHOOK_SECRET, body)}
        check(
            env,
            lambda p=path, h=headers: client.post(
                p, data=body, headers={"Content-Type": "application/json", **h}
            ),
        )


# -- the extension's node calls -------------------------------------------------------------------
NODE_CALLS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["say", "handoverV2", "switch", "goTo", "if", "addToContext", "x"])
        | JSON,
        "config": JSON,
    },
    optional={"nodeId": JSON, "input": JSON, "context": JSON, "profile": JSON},
).map(as_bytes)


@FUZZ
@given(auth=AUTH, body=BODIES | NODE_CALLS)
def test_extension_execute(env: BridgeEnv, baseline_rss: int, auth: str, body: bytes) -> None:
    headers = _auth_headers(auth, {"Authorization": f"Bearer {EXT_KEY}"})
    client = env.app.test_client()
    check(env, lambda: client.post("/extension/v1/execute", data=body, headers=headers))


# -- operators ------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=25)
@given(
    path=st.sampled_from(["/healthz", "/readyz", "/metrics", "/", "/nope", "/endpoint"]),
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "QWERTYUIOPAS"]),
    query=QUERY,
)
def test_operator_routes(
    env: BridgeEnv, baseline_rss: int, path: str, method: str, query: dict
) -> None:
    client = env.app.test_client()
    check(env, lambda: client.open(path, method=method, query_string=query), may_be_503=True)


def test_oversized_bodies_over_http(env: BridgeEnv, baseline_rss: int) -> None:
    """2 MB bodies on every POST route over real HTTP: a 4xx each, no state change."""
    big = b'{"userId":"u","sessionId":"s","text":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    for path in (
        "/endpoint/demo",
        "/endpoint/demo/sessions/s/connect",
        "/endpoint/demo/sessions/s/typing",
        "/handover/genesysCloudOM",
        "/handover/genesysCloudOM/eventbridge",
        "/extension/v1/execute",
    ):
        resp = check(env, lambda p=path: requests.post(env.bridge_url + p, data=big, timeout=30))
        assert 400 <= resp.status_code < 500, path


def test_memory_stayed_bounded(env: BridgeEnv, baseline_rss: int) -> None:
    """Runs last in this module: the process grew by far less than the bodies the suite sent."""
    growth_mb = (_rss_kb() - baseline_rss) / 1024
    assert growth_mb < 150, growth_mb
