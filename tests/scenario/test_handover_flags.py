"""Feature flags and handover settings, each on and off, observed at the user and in the sandbox."""

from __future__ import annotations

import pytest

from om_bridge.bridge.store import SessionKey
from tests.scenario.handover_helpers import (
    SandboxReader,
    collect,
    demo_flow_with,
    flow_config,
    handover_of,
    said,
    start_handover,
    texts,
    wait_conversation_id,
)

ERROR_SAY = {"say-error": "Handover error: {{ input.handover.error.message }}"}


@pytest.mark.parametrize(
    "flags, config, switch",
    [
        ({"FEATURE_ENABLE_GENESYS_CLOUD_OM": "false"}, {}, "FEATURE_ENABLE_GENESYS_CLOUD_OM"),
        (
            {"FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "acme,other"},
            {},
            "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST",
        ),
        (
            {"FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "acme"},
            {},
            "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST",
        ),
        ({}, {"bridge": {"environment": "trial"}}, "trial"),
    ],
)
def test_refused_handover_reaches_the_flow_as_error(
    make_bridge_env, tmp_path, flags, config, switch
):
    env = make_bridge_env()
    flow = flow_config(demo_flow_with(tmp_path, says=ERROR_SAY))
    env.restart_bridge(flags=flags, config={**config, **flow})
    env.say("hello")
    reply = env.say("agent")
    assert "Handover error: " in reply["text"]
    assert switch in reply["text"]
    assert handover_of(env) is None
    assert env.ctx.store.outbox_pending() == []
    # The bot is still in charge and answers the next message.
    assert "You said" in env.say("still there?")["text"]


def test_whitelists_with_the_organisation_allow_the_handover(make_bridge_env):
    env = make_bridge_env(
        flags={
            "FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST": "acme,demo",
            "FEATURE_USE_GENESYS_BOT_CONNECTOR_ENDPOINT_WHITELIST": "demo",
        }
    )
    assert start_handover(env)


def _first_message(env, conversation_id):
    return SandboxReader(env.sandbox_url).inbound_texts(conversation_id)[0]


@pytest.mark.parametrize("on", [True, False])
def test_filter_empty_messages_flag(make_bridge_env, on):
    env = make_bridge_env(
        flags={"FEATURE_FILTER_EMPTY_MESSAGES_HANDOVER_PROVIDER": str(on).lower()}
    )
    env.say("hello")
    env.say("")
    env.say("agent")
    transcript = _first_message(env, wait_conversation_id(env)).split("\n")
    assert ("User: " in transcript) is (not on)
    assert "User: hello" in transcript and "User: agent" in transcript


@pytest.mark.parametrize("on", [True, False])
def test_filter_unsupported_messages_flag(make_bridge_env, on):
    env = make_bridge_env(
        flags={"FEATURE_FILTER_UNSUPPORTED_MESSAGES_HANDOVER_PROVIDER": str(on).lower()}
    )
    env.say("hello")
    env.say(data={"payload": {"kind": "card"}})
    env.say("agent")
    transcript = _first_message(env, wait_conversation_id(env)).split("\n")
    assert ("User: UNSUPPORTED_STRUCTURE_DATA" in transcript) is (not on)
    assert "User: agent" in transcript


@pytest.mark.parametrize("send_profile", [True, False])
def test_send_profile(make_bridge_env, send_profile):
    env = make_bridge_env(
        config={"providers": [{"id": "genesys-demo", "send_profile": send_profile}]}
    )
    # A returning user whose contact profile carries a name.
    key = SessionKey(env.url_token, env.user_id, env.session_id)
    env.ctx.store.save_session(key, {"profile": {"firstname": "Jane", "lastname": "Doe"}})
    conversation_id = start_handover(env)
    attrs = SandboxReader(env.sandbox_url).customer(conversation_id)["attributes"]
    if send_profile:
        assert (attrs["firstName"], attrs["lastName"]) == ("Jane", "Doe")
    else:
        assert "firstName" not in attrs and "lastName" not in attrs


def test_copilot_url_and_node_attributes(make_bridge_env, tmp_path):
    base = "https://ai-copilot.example.com/"
    env = make_bridge_env(config={"endpoints": [{"url_token": "demo", "copilot_base_url": base}]})
    conversation_id = start_handover(env)
    attrs = SandboxReader(env.sandbox_url).customer(conversation_id)["attributes"]
    assert attrs["agentCopilotUrl"] == (
        f"{base}?userId={env.user_id}&sessionId={env.session_id}&URLToken=demo"
    )
    assert attrs["mySkills"] == "demo"
    assert attrs["source"] == "om-bridge demo bot"  # the demo Handover node's key-value attribute


def test_no_copilot_url_when_not_configured(bridge_env):
    conversation_id = start_handover(bridge_env)
    attrs = SandboxReader(bridge_env.sandbox_url).customer(conversation_id)["attributes"]
    assert "agentCopilotUrl" not in attrs


def test_presence_notices_off(make_bridge_env, tmp_path):
    env = make_bridge_env()
    env.restart_bridge(
        config=flow_config(
            demo_flow_with(
                tmp_path, enableUserConnectsMessage=False, enableUserDisconnectsMessage=False
            )
        )
    )
    conversation_id = start_handover(env, agent_answers=True)
    env.post_session("disconnect")
    env.post_session("connect")
    env.say("marker")
    reader = SandboxReader(env.sandbox_url)
    collect_ok = []

    def arrived() -> bool:
        collect_ok[:] = reader.inbound_texts(conversation_id)
        return "marker" in collect_ok

    from tests.conftest import wait_until

    wait_until(arrived, 10, interval=0.2, what="the marker at the agent")
    assert "User left the conversation" not in collect_ok
    assert "User joined the conversation" not in collect_ok


def test_agent_details_off(make_bridge_env, tmp_path):
    env = make_bridge_env()
    env.restart_bridge(config=flow_config(demo_flow_with(tmp_path, displayAgentDetails=False)))
    conversation_id = start_handover(env, agent_answers=True)
    env.agent.send_text(conversation_id, "hello from the agent")
    outs = collect(env, said("agent", "hello from the agent"))
    out = [o for o in outs if o.get("text") == "hello from the agent"][0]
    assert not (out.get("data") or {}).get("agent")
    assert texts(outs, "agent") == ["hello from the agent"]


def test_accepted_message_is_said_to_the_user(make_bridge_env, tmp_path):
    env = make_bridge_env()
    flow = demo_flow_with(tmp_path, text="An agent will be with you shortly.")
    env.restart_bridge(config=flow_config(flow))
    env.say("hello")
    reply = env.say("agent")
    assert reply["text"].endswith("An agent will be with you shortly.")
    assert reply["outputStack"][-1]["text"] == "An agent will be with you shortly."
    assert wait_conversation_id(env)


def _flow_with_failing_node(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Start → Add to Context with a key from the user's text → Lookup (Handover Status) with an
    `error` case that tells the user, built from the demo bot's own nodes."""
    import json

    from tests.scenario.handover_helpers import FLOWS_DIR

    demo = json.loads((FLOWS_DIR / "demo-bot.json").read_text(encoding="utf-8"))
    nodes = {n["_id"]: n for n in demo["nodes"]}
    keep = ["start", "lookup-status", "case-error", "say-error", "default-status"]
    chart = {k: v for k, v in demo.items() if k not in ("nodes", "relations")}
    chart["nodes"] = [nodes[k] for k in keep]
    nodes["say-error"]["config"]["say"]["text"] = [ERROR_SAY["say-error"]]
    chart["nodes"].append(
        {
            "_id": "remember-text",
            "type": "addToContext",
            "label": "Remember the text",
            "config": {"key": "{{ input.text }}", "value": "seen", "mode": "simple"},
        }
    )
    chart["relations"] = [
        {"node": "start", "children": [], "next": "remember-text"},
        {"node": "remember-text", "children": [], "next": "lookup-status"},
        {"node": "lookup-status", "children": ["case-error", "default-status"], "next": None},
        {"node": "case-error", "children": [], "next": "say-error"},
        {"node": "say-error", "children": [], "next": None},
        {"node": "default-status", "children": [], "next": None},
    ]
    path = tmp_path / "failing-node.json"
    path.write_text(json.dumps(chart), encoding="utf-8")
    return str(path)


def test_a_node_error_reaches_the_flow_as_handover_error(make_bridge_env, tmp_path):
    # A context key that the user's text leaves empty ("...") fails the node when it runs: the
    # flow hears it as input.handover.status = "error" with the reason, and its error case tells
    # the user, instead of a silent dead end.
    env = make_bridge_env()
    env.restart_bridge(config=flow_config(_flow_with_failing_node(tmp_path)))
    reply = env.say("...")
    assert "Handover error: " in reply["text"], reply
    assert "Remember the text" in reply["text"] and "names no property" in reply["text"]
    assert env.say("fine")["outputStack"] == []  # a good input runs through quietly


def _flow_with_update_profile(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The demo bot with two Update Profile nodes before the handover (first and last name)."""
    import json

    from tests.scenario.handover_helpers import FLOWS_DIR

    chart = json.loads((FLOWS_DIR / "demo-bot.json").read_text(encoding="utf-8"))
    for node_id, key, value in (
        ("update-first", "firstname", "Ada"),
        ("update-last", "lastname", "{{ input.text }}"),
    ):
        chart["nodes"].append(
            {
                "_id": node_id,
                "type": "updateProfile",
                "label": f"Update {key}",
                "config": {"profileKey": key, "value": value},
            }
        )
    relations = {r["node"]: r for r in chart["relations"]}
    relations["then-agent"]["next"] = "update-first"
    chart["relations"] += [
        {"node": "update-first", "children": [], "next": "update-last"},
        {"node": "update-last", "children": [], "next": "say-connecting"},
    ]
    path = tmp_path / "demo-bot-profile.json"
    path.write_text(json.dumps(chart), encoding="utf-8")
    return str(path)


def test_update_profile_node_fills_send_profile(make_bridge_env, tmp_path):
    env = make_bridge_env(config={"providers": [{"id": "genesys-demo", "send_profile": True}]})
    env.restart_bridge(config=flow_config(_flow_with_update_profile(tmp_path)))
    env.say("hello")
    env.say("agent Lovelace")
    conversation_id = wait_conversation_id(env)
    customer = SandboxReader(env.sandbox_url).customer(conversation_id)
    # channel.from carried the names: Genesys shows the nickname on the customer participant.
    assert customer["name"] == "Ada agent Lovelace"
    assert customer["attributes"]["firstName"] == "Ada"
    assert customer["attributes"]["lastName"] == "agent Lovelace"


def test_profile_given_by_the_channel_is_sent(make_bridge_env):
    env = make_bridge_env(config={"providers": [{"id": "genesys-demo", "send_profile": True}]})
    import requests

    resp = requests.post(
        env.bridge_url + "/endpoint/demo",
        json={
            "userId": env.user_id,
            "sessionId": env.session_id,
            "text": "hello",
            "profile": {"firstname": "Jane", "lastname": "Doe", "nickname": "Jane D."},
        },
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    env.say("agent")
    conversation_id = wait_conversation_id(env)
    customer = SandboxReader(env.sandbox_url).customer(conversation_id)
    assert customer["name"] == "Jane D."
    assert (customer["attributes"]["firstName"], customer["attributes"]["lastName"]) == (
        "Jane",
        "Doe",
    )
    bad = requests.post(
        env.bridge_url + "/endpoint/demo",
        json={"userId": "u", "sessionId": "s", "text": "x", "profile": {"firstname": {"a": 1}}},
        timeout=30,
    )
    assert bad.status_code == 400 and "profile" in bad.text
