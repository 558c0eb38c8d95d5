"""SSE outputs: events carry the seq as id, resume after Last-Event-ID, keep-alive comments in silence."""

from __future__ import annotations

import json

import pytest
import requests

from om_bridge.bridge.store.records import SessionKey


def key(env) -> SessionKey:
    return SessionKey("demo", env.user_id, env.session_id)


class Events:
    """A minimal SSE reader over a streamed requests response."""

    def __init__(self, env, headers: dict | None = None, after: int | None = None) -> None:
        params = {"userId": env.user_id}
        if after is not None:
            params["after"] = after
        self.resp = requests.get(
            env.session_url("/events"),
            params=params,
            headers=headers or {},
            stream=True,
            timeout=15,
        )
        self.lines = self.resp.iter_lines(decode_unicode=True)

    def next_block(self) -> list[str]:
        block: list[str] = []
        for line in self.lines:
            if line == "":
                if block:
                    return block
                continue
            block.append(line)
        raise AssertionError("stream ended")

    def next_event(self) -> tuple[int, dict]:
        while True:
            block = self.next_block()
            fields = dict(
                line.split(": ", 1) for line in block if not line.startswith(":") and ": " in line
            )
            if fields.get("event") == "output":
                return int(fields["id"]), json.loads(fields["data"])

    def close(self) -> None:
        self.resp.close()


def test_outputs_stream_as_events(bridge_env):
    hub = bridge_env.ctx.outputs
    s1 = hub.emit(key(bridge_env), {"source": "agent", "text": "before connecting"})
    events = Events(bridge_env)
    try:
        assert events.resp.headers["Content-Type"].startswith("text/event-stream")
        assert events.next_event() == (s1, events_payload(bridge_env, s1))
        s2 = hub.emit(
            key(bridge_env),
            {"source": "agent", "text": "while connected", "data": {"typing": False}},
        )
        seq, out = events.next_event()
        assert seq == s2 and out["text"] == "while connected" and out["seq"] == s2
    finally:
        events.close()


def events_payload(env, seq: int) -> dict:
    return next(o for o in env.outputs()["outputs"] if o["seq"] == seq)


def test_last_event_id_resumes_after_it(bridge_env):
    hub = bridge_env.ctx.outputs
    seqs = [hub.emit(key(bridge_env), {"source": "bot", "text": f"m{i}"}) for i in range(3)]
    events = Events(bridge_env, headers={"Last-Event-ID": str(seqs[0])})
    try:
        assert [events.next_event()[1]["text"] for _ in range(2)] == ["m1", "m2"]
    finally:
        events.close()


@pytest.mark.bridge_env(sse_keepalive=0.2)
def test_keep_alive_comment_when_silent(bridge_env):
    events = Events(bridge_env)
    try:
        blocks = [events.next_block() for _ in range(2)]
        assert blocks[0] == ["retry: 2000"]
        assert blocks[1] == [": keep-alive"]
    finally:
        events.close()


def test_missing_user_id_is_400(bridge_env):
    resp = requests.get(bridge_env.session_url("/events"), timeout=10)
    assert resp.status_code == 400 and resp.json()["path"] == "userId"


def test_bad_last_event_id_is_400_not_a_broken_stream(bridge_env):
    for last in ("99999999999999999999999", "\u00b2".encode(), "abc"):
        resp = requests.get(
            bridge_env.session_url("/events"),
            params={"userId": "u"},
            headers={"Last-Event-ID": last},
            timeout=10,
        )
        assert resp.status_code == 400, last
        assert resp.json()["path"] == "Last-Event-ID"
