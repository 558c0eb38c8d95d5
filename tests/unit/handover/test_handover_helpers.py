"""Engine pieces: REST replies, destinations, attachments, agent lookup, keyed executor."""

from __future__ import annotations

import threading

from om_bridge.bridge.flow import Output
from om_bridge.bridge.handover.agents import avatar_of, latest_agent_id
from om_bridge.bridge.handover.replies import attachments, for_agent, for_user, rest_reply
from om_bridge.bridge.handover.serial import KeyedExecutor


def test_rest_reply_concatenates_and_keeps_the_stack():
    reply = rest_reply(
        "u", "s", [Output("Hi", None, "userOnly"), Output("There", {"a": 1}, "userAndAgent")]
    )
    assert reply["text"] == "Hi\nThere" and reply["data"] == {"a": 1}
    assert [o["text"] for o in reply["outputStack"]] == ["Hi", "There"]
    assert all(o["source"] == "bot" and o["traceId"] for o in reply["outputStack"])
    assert (reply["userId"], reply["sessionId"]) == ("u", "s")
    empty = rest_reply("u", "s", [])
    assert empty["text"] is None and empty["outputStack"] == []


def test_destinations():
    outs = [
        Output("u", None, "userOnly"),
        Output("a", None, "agentOnly"),
        Output("b", None, "userAndAgent"),
    ]
    assert [o.text for o in for_user(outs)] == ["u", "b"]
    assert [o.text for o in for_agent(outs)] == ["a", "b"]


def test_attachments_from_user_data():
    content = attachments(
        {
            "attachments": [
                {"url": "https://x/a.png", "mime": "image/png", "filename": "a.png"},
                {"url": "https://x/b.pdf", "mime": "application/pdf"},
                {"url": "", "mime": "image/png"},
                "junk",
            ]
        }
    )
    assert content == [
        {
            "attachment": {
                "mediaType": "Image",
                "url": "https://x/a.png",
                "mime": "image/png",
                "filename": "a.png",
            }
        },
        {"attachment": {"mediaType": "File", "url": "https://x/b.pdf", "mime": "application/pdf"}},
    ]
    assert attachments(None) == [] and attachments({"attachments": "no"}) == []


def test_latest_connected_agent_wins():
    conversation = {
        "participants": [
            {"purpose": "customer", "state": "connected"},
            {
                "purpose": "agent",
                "state": "disconnected",
                "user": {"id": "old"},
                "connectedTime": "2025-01-01T00:00:00Z",
            },
            {
                "purpose": "agent",
                "state": "connected",
                "user": {"id": "a1"},
                "connectedTime": "2025-01-01T00:01:00Z",
            },
            {
                "purpose": "agent",
                "state": "connected",
                "user": {"id": "a2"},
                "connectedTime": "2025-01-01T00:02:00Z",
            },
        ]
    }
    assert latest_agent_id(conversation) == "a2"
    assert latest_agent_id({"participants": [{"purpose": "acd", "state": "connected"}]}) is None


def test_avatar_is_the_largest_image():
    user = {
        "images": [
            {"resolution": "x48", "imageUri": "s"},
            {"resolution": "640x480", "imageUri": "l"},
            {"resolution": "x96", "imageUri": "m"},
        ]
    }
    assert avatar_of(user) == "l"
    assert avatar_of({}) is None


def test_keyed_executor_keeps_order_per_key_and_runs_keys_in_parallel():
    ex = KeyedExecutor(4)
    seen: list[tuple[str, int]] = []
    gate = threading.Event()
    lock = threading.Lock()

    def task(key: str, n: int, wait: bool = False):
        def run() -> None:
            if wait:
                assert gate.wait(10)
            with lock:
                seen.append((key, n))

        return run

    ex.submit("a", task("a", 0, wait=True))
    for n in range(1, 20):
        ex.submit("a", task("a", n))
    ex.submit("b", task("b", 0))
    ex.submit("b", task("b", 1))
    # "b" completes while "a" is blocked on its first task.
    from tests.conftest import wait_until

    wait_until(lambda: ("b", 1) in seen, 5, what="key b to run")
    assert [n for k, n in seen if k == "a"] == []
    gate.set()
    assert ex.wait_idle(10)
    assert [n for k, n in seen if k == "a"] == list(range(20))
    ex.shutdown()


def test_keyed_executor_survives_a_failing_task():
    ex = KeyedExecutor(1)
    done: list[int] = []

    def boom() -> None:
        raise RuntimeError("boom")

    ex.submit("k", boom)
    ex.submit("k", lambda: done.append(1))
    assert ex.wait_idle(5) and done == [1]
    ex.shutdown()
