"""The first handover message: transcript formatting, filters, custom attributes, Copilot URL."""

from __future__ import annotations

from om_bridge.bridge.handover.first_message import (
    copilot_url,
    custom_attributes,
    format_transcript,
    profile_names,
)

TRANSCRIPT = [
    {"source": "user", "text": "hello", "data": None},
    {"source": "bot", "text": "Hi! How can I help?", "data": None},
    {"source": "user", "text": "   ", "data": None},
    {"source": "user", "text": None, "data": {"payload": "card"}},
    {"source": "user", "text": "agent", "data": None},
]


def test_transcript_unfiltered_shows_every_message():
    assert format_transcript(TRANSCRIPT, filter_empty=False, filter_unsupported=False) == (
        "Transcript:\nUser: hello\nBot: Hi! How can I help?\nUser: \n"
        "User: UNSUPPORTED_STRUCTURE_DATA\nUser: agent"
    )


def test_empty_filter_drops_blank_messages_only():
    text = format_transcript(TRANSCRIPT, filter_empty=True, filter_unsupported=False)
    assert "User: \n" not in text and "UNSUPPORTED_STRUCTURE_DATA" in text


def test_unsupported_filter_drops_data_only_messages_only():
    text = format_transcript(TRANSCRIPT, filter_empty=False, filter_unsupported=True)
    assert "UNSUPPORTED_STRUCTURE_DATA" not in text and "User: \n" in text


def test_nothing_left_still_says_so():
    text = format_transcript(
        [{"source": "user", "text": "", "data": None}], filter_empty=True, filter_unsupported=True
    )
    assert text == "Transcript: (no messages before the handover)"


def test_copilot_url_forms():
    assert (
        copilot_url("ai-copilot.example.com", "u 1", "s&2", "tok")
        == "https://ai-copilot.example.com/?userId=u+1&sessionId=s%262&URLToken=tok"
    )
    assert (
        copilot_url("https://x.example/", "u", "s", "t")
        == "https://x.example/?userId=u&sessionId=s&URLToken=t"
    )


def _attrs(**kw):
    base = dict(
        queue_id="q1",
        language="english",
        skills=["billing", "vip"],
        priority=3,
        user_id="u1",
        session_id="s1",
        url_token="tok",
        copilot_base_url=None,
        node_attributes={},
        first_name=None,
        last_name=None,
    )
    base.update(kw)
    return custom_attributes(**base)


def test_custom_attributes_carry_routing_and_ids_as_strings():
    assert _attrs() == {
        "queueId": "q1",
        "myLanguage": "english",
        "mySkills": "billing,vip",
        "priority": "3",
        "userId": "u1",
        "sessionId": "s1",
        "URLToken": "tok",
    }


def test_node_attributes_kept_but_cannot_override_routing_keys():
    attrs = _attrs(node_attributes={"region": "EU", "tier": 2, "userId": "spoofed", "none": None})
    assert attrs["region"] == "EU" and attrs["tier"] == "2" and attrs["userId"] == "u1"
    assert "none" not in attrs


def test_profile_and_copilot_attributes():
    attrs = _attrs(first_name="Jane", last_name="Doe", copilot_base_url="https://c.example")
    assert attrs["firstName"] == "Jane" and attrs["lastName"] == "Doe"
    assert attrs["agentCopilotUrl"].startswith("https://c.example/?userId=u1")


def test_profile_names_any_casing():
    assert profile_names({"firstname": "Jane", "lastname": "Doe"}) == ("Jane", "Doe")
    assert profile_names({"firstName": "Ann"}) == ("Ann", None)
    assert profile_names({}) == (None, None)
