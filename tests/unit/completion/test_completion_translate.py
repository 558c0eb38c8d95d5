"""Translators: every input shape becomes the one internal event; the suffix registry matches
the declared suffixes."""

from __future__ import annotations

from om_bridge.bridge.completion import events as ev
from om_bridge.bridge.completion import translate

ORG = "7d0c6a3e-1b2f-4c5d-8e9f-0a1b2c3d4e5f"


def envelope(suffix: str, **body: object) -> dict:
    event = {
        "eventTime": 1717236432000,
        "conversationId": "c-1",
        "participantId": "p-1",
        "mediaType": "MESSAGE",
        "messageType": "OPEN",
        **body,
    }
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": f"v2.detail.events.conversation.{{id}}.{suffix}",
        "source": f"aws.partner/genesys.com/cloud/{ORG}/om-bridge",
        "account": "123456789012",
        "time": "2024-06-01T10:07:12Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "topicName": f"v2.detail.events.conversation.c-1.{suffix}",
            "version": "2",
            "eventBody": event,
            "metadata": {"CorrelationId": "x"},
        },
    }


def test_every_handled_suffix_is_declared_and_every_declared_one_handled():
    assert set(translate.DETAIL_TRANSLATORS) == set(ev.DETAIL_SUFFIXES)


def test_eventbridge_customer_end():
    event = translate.from_eventbridge(envelope("customer.end", disconnectType="PEER"))
    assert event.kind == ev.CUSTOMER_END
    assert event.conversation_id == "c-1"
    assert event.organization_id == ORG
    assert event.disconnect_type == "PEER"
    assert event.event_time == 1717236432.0
    assert event.source == ev.EVENTBRIDGE
    assert event.is_open_messaging()


def test_user_end_by_transfer_is_a_transfer_and_by_client_an_agent_end():
    for dtype in ("TRANSFER", "NO_ANSWER_TRANSFER", "CONSULT_TRANSFER"):
        assert (
            translate.from_eventbridge(envelope("user.end", disconnectType=dtype)).kind
            == ev.TRANSFER
        )
    assert (
        translate.from_eventbridge(envelope("user.end", disconnectType="CLIENT")).kind
        == ev.AGENT_END
    )


def test_unhandled_suffix_gives_none():
    assert translate.from_eventbridge(envelope("acd.end")) is None


def test_other_media_is_flagged_not_open_messaging():
    event = translate.from_eventbridge(envelope("customer.end", mediaType="CHAT", messageType=None))
    assert not event.is_open_messaging()


def test_cognigy_data_action_body_names_only_the_customer():
    event = translate.from_data_action(
        {"userId": "cust-1", "topic": "v2.detail.events.conversation.id.acw"}
    )
    assert event.kind == ev.ACW
    assert event.customer_id == "cust-1"
    assert event.conversation_id is None and event.event_time is None
    event = translate.from_data_action(
        {
            "userId": "cust-1",
            "disconnectType": "TRANSFER",
            "topic": "v2.detail.events.conversation.id.user.end",
        }
    )
    assert event.kind == ev.TRANSFER


def test_detail_body_without_topic_is_told_apart_by_its_fields():
    base = {"conversationId": "c-1", "eventTime": 1717236432000}
    assert translate.from_data_action({**base, "disconnectType": "PEER"}).kind == ev.CUSTOMER_END
    assert (
        translate.from_data_action({**base, "userId": "u", "disconnectType": "CLIENT"}).kind
        == ev.AGENT_END
    )
    assert translate.from_data_action({**base, "userId": "u", "wrapupCode": "x"}).kind == ev.ACW
    assert (
        translate.from_data_action({**base, "acdOutcome": "ANSWERED", "disconnectType": "TRANSFER"})
        is None
    )
    assert translate.from_data_action({**base, "topic": "customer.end"}).kind == ev.CUSTOMER_END


def test_snapshot_with_ended_customer_is_a_customer_end():
    conv = {
        "id": "c-1",
        "participants": [
            {
                "id": "p1",
                "purpose": "customer",
                "state": "disconnected",
                "disconnectType": "peer",
                "endTime": "2024-06-01T10:07:12.000Z",
            },
            {"id": "p4", "purpose": "agent", "state": "disconnected", "disconnectType": "client"},
        ],
    }
    event = translate.from_conversation(conv, ev.RECONCILE)
    assert event.kind == ev.CUSTOMER_END and event.conversation_id == "c-1"
    assert event.disconnect_type == "PEER"
    assert event.event_time == 1717236432.0


def test_snapshot_with_live_customer_says_nothing():
    conv = {
        "id": "c-1",
        "participants": [{"id": "p1", "purpose": "customer", "state": "connected"}],
    }
    assert translate.from_conversation(conv, ev.RECONCILE) is None


def test_split_topic_forms():
    assert translate.split_topic("v2.detail.events.conversation.abc.user.end") == (
        "abc",
        "user.end",
    )
    assert translate.split_topic("v2.detail.events.conversation.{id}.acw") == (None, "acw")
    assert translate.split_topic("v2.detail.events.conversation.id.acw") == (None, "acw")
    assert translate.split_topic("customer.end") == (None, "customer.end")


def test_transfer_spellings():
    assert ev.is_transfer("transfer.noanswer") and ev.is_transfer("DND_TRANSFER")
    assert ev.is_transfer("TRANSFER") and not ev.is_transfer("CLIENT") and not ev.is_transfer(None)
