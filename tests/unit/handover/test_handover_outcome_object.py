"""`build_outcome`: the `input.handover` object of an ended handover from the handover record, its
transcript lines and the Genesys conversation's participants."""

from __future__ import annotations

from om_bridge.bridge.handover.outcome import agent_legs, build_outcome, iso
from om_bridge.bridge.store import Handover, SessionKey

KEY = SessionKey("demo", "u", "s")
USERS = {
    "alex": {"name": "Alex Agent", "images": [{"resolution": "x96", "imageUri": "https://a/96"}]},
    "sam": {"name": "Sam Supervisor"},
}


def ended(status="completed", reason="customer.end (PEER) via eventbridge", **fields):
    h = Handover.new(KEY, "p", "u", created_at=1000.0, conversation_id="c-1", **fields)
    h.status, h.ended_at, h.end_reason = status, 1065.6, reason
    return h


def leg(user, connected, wrapup=None, end_acw=None, name=None):
    return {
        "purpose": "agent",
        "user": {"id": user, **({"name": name} if name else {})},
        "connectedTime": connected,
        "wrapup": wrapup,
        "endAcwTime": end_acw,
    }


CONVERSATION = {
    "participants": [
        {"purpose": "customer", "connectedTime": "2026-01-01T00:00:00.000Z"},
        leg(
            "sam",
            "2026-01-01T00:02:00.000Z",
            {"code": "Resolved", "name": "Resolved", "notes": "ok"},
        ),
        leg("alex", "2026-01-01T00:01:00.000Z", {"code": "Transferred"}, "2026-01-01T00:02:05Z"),
        {"purpose": "agent", "user": {"id": "never"}, "connectedTime": None},  # declined
        {"purpose": "acd", "connectedTime": "2026-01-01T00:00:30.000Z"},
    ]
}


def test_outcome_names_the_last_agent_lists_all_and_takes_their_wrap_up():
    lines = [{"source": "agent", "text": "hi", "time": "t1", "data": None, "handover": "h"}]
    out = build_outcome(ended(), lines, CONVERSATION, USERS.get)
    assert out["status"] == "completed" and out["reason"].startswith("customer.end")
    assert out["conversationId"] == "c-1"
    assert out["agent"] == {"name": "Sam Supervisor", "id": "sam", "avatar": None}
    assert out["agents"] == [
        {"name": "Alex Agent", "id": "alex", "avatar": "https://a/96"},
        {"name": "Sam Supervisor", "id": "sam", "avatar": None},
    ]
    assert out["startedAt"] == iso(1000.0) == "1970-01-01T00:16:40.000Z"
    assert out["endedAt"] == iso(1065.6) and out["durationSeconds"] == 66
    assert out["wrapup"] == {"code": "Resolved", "name": "Resolved", "notes": "ok"}
    assert out["transcript"] == [{"source": "agent", "text": "hi", "time": "t1"}]
    assert "error" not in out


def test_without_a_wrap_up_of_the_last_agent_the_latest_other_one_is_used():
    conv = {"participants": [leg("alex", "1", {"code": "A"}, "5"), leg("sam", "2")]}
    assert build_outcome(ended(), [], conv, USERS.get)["wrapup"] == {
        "code": "A",
        "name": "A",
        "notes": None,
    }
    assert (
        build_outcome(ended(), [], {"participants": [leg("sam", "2")]}, USERS.get)["wrapup"] is None
    )


def test_unreadable_users_fall_back_to_the_participant_name_and_no_conversation_to_the_record():
    conv = {"participants": [leg("zed", "1", name="Zed From Participant")]}
    out = build_outcome(ended(), [], conv, lambda _id: None)
    assert out["agent"] == {"name": "Zed From Participant", "id": "zed", "avatar": None}
    known = ended(agent={"id": "alex", "name": "Alex Agent", "avatar": "https://a/96"})
    out = build_outcome(known, [], None, USERS.get)
    assert out["agent"] == {"name": "Alex Agent", "id": "alex", "avatar": "https://a/96"}
    assert out["agents"] == [out["agent"]] and out["wrapup"] is None


def test_an_error_end_without_agent_carries_cognigys_error_object():
    out = build_outcome(
        ended("error", "the handover could not be started: 400"), [], None, USERS.get
    )
    assert out["agent"] is None and out["agents"] == [] and out["transcript"] == []
    assert out["error"] == {"reason": "error", "message": "the handover could not be started: 400"}


def test_agent_legs_skips_declined_offers_and_orders_by_connect_time():
    assert [leg["id"] for leg in agent_legs(CONVERSATION)] == ["alex", "sam"]
    assert agent_legs(None) == [] and agent_legs({"participants": "bad"}) == []
