"""Cognigy-hosted mode end to end, through real HTTP only: the Cognigy emulator runs the flow
template with the BUILT extension's module.js in Node.js, the bridge starts the handover and calls
back through Inject/Notify on Cognigy's endpoint service (and the legacy v2.0 API), the Genesys
sandbox plays the contact centre. The emulator refuses every body Cognigy's types forbid, so none
may be rejected. The story runs over HTTPS with certificate verification on: Cognigy's hosts and
Genesys serve the test CA's certificate, which the bridge trusts through REQUESTS_CA_BUNDLE
(`tests/tlsca.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from om_bridge.sandbox import seed
from tests.conftest import wait_until
from tests.scenario.cognigy_helpers import TOKEN, make_env, texts
from tests.scenario.handover_helpers import FLOWS_DIR as FLOWS
from tests.scenario.handover_helpers import SandboxReader
from tests.scenario.test_redis_fanout import redis_url  # noqa: F401 - fixture

pytestmark = pytest.mark.node

BOT = 'I am the bot. Write "agent" whenever you want to talk to a person.'


def open_conversation(env, cognigy) -> str:  # type: ignore[no-untyped-def]
    found: list[str] = []

    def known() -> bool:
        h = env.ctx.store.open_handover_for_session(cognigy.key)
        if h is not None and h.conversation_id:
            found.append(h.conversation_id)
        return bool(found)

    wait_until(known, 20, what="the handover's Genesys conversation")
    return found[0]


def notified(cognigy, text):  # type: ignore[no-untyped-def]
    return cognigy.wait_output(lambda o: o["source"] == "notify" and o.get("text") == text)


def pending_cognigy_calls(env) -> list:  # type: ignore[no-untyped-def]
    return [i for i in env.ctx.store.outbox_pending() if i.kind.startswith("cognigy_")]


def wait_retried(env) -> None:  # type: ignore[no-untyped-def]
    """A Cognigy call is waiting in the outbox and was already tried more than once."""
    wait_until(
        lambda: any(i.attempts >= 2 for i in pending_cognigy_calls(env)),
        20,
        what="a Cognigy call retried from the outbox",
    )


@pytest.mark.parametrize(
    "route, trouble",
    [
        ("endpoint", "none"),
        ("endpoint", "429"),
        ("endpoint", "503"),
        ("endpoint", "down"),
        ("endpoint", "restart"),
        ("legacy", "none"),
        ("legacy", "down"),
    ],
)
def test_cognigy_hosted_story(make_bridge_env, tmp_path, route, trouble, tls, ca_bundle_env):
    """user → emulator → flow → Handover node → bridge → Genesys and back, also while Cognigy
    answers 429 / 503, is unavailable for a while, or the bridge restarts with calls pending;
    every hop to Cognigy and Genesys over HTTPS."""
    env, cognigy = make_env(make_bridge_env, tmp_path, route, tls)
    assert cognigy.emulator.endpoint_url.startswith("https://")
    assert cognigy.emulator.api_url.startswith("https://")
    assert env.sandbox_url.startswith("https://")
    try:
        story(env, cognigy, trouble)
        assert cognigy.rejected() == []
    finally:
        cognigy.close()


def story(env, cognigy, trouble: str) -> None:  # type: ignore[no-untyped-def]
    reader = SandboxReader(env.sandbox_url)
    assert cognigy.say("hello")["text"] == BOT
    if trouble == "429":
        cognigy.add_fault(call="*", status=429, count=3, retry_after=0.2)
    elif trouble == "503":
        cognigy.add_fault(call="*", status=503, count=4)
    elif trouble in ("down", "restart"):
        cognigy.down()
    reply = cognigy.say("I want an agent")
    assert reply["text"] == "Please wait, I am connecting you with an agent."

    conversation_id = open_conversation(env, cognigy)
    if trouble in ("down", "restart"):
        wait_retried(env)
        if trouble == "restart":
            env.restart_bridge()
            assert pending_cognigy_calls(env), "the pending calls survive the restart"
        cognigy.up()
    attrs = reader.customer(conversation_id)["attributes"]
    assert attrs["queueId"] == seed.DEMO_QUEUE_ID and attrs["myLanguage"] == "english"
    assert attrs["userId"] == cognigy.user_id and attrs["sessionId"] == cognigy.session_id
    assert attrs["URLToken"] == TOKEN and attrs["channel"] == "cognigy-webchat"
    first = reader.inbound_texts(conversation_id)[0]
    assert first.startswith(f"Transcript:\nUser: hello\nBot: {BOT}\nUser: I want an agent")

    # The inbound flow's "Connected" reaches the user through Lookup → Case → Say (Inject).
    cognigy.wait_output(lambda o: o["via"] == "inject" and o.get("text") == "Connected")
    cognigy.wait_output(
        lambda o: o.get("text") == "You are in the queue. An agent will be with you shortly."
    )

    agent = env.agent
    agent.go_on_queue()
    assert agent.wait_for_offer()["id"] == conversation_id
    agent.answer(conversation_id)
    agent.send_text(conversation_id, "Hi, I am Alex. How can I help?")
    said = notified(cognigy, "Hi, I am Alex. How can I help?")
    # The agent's name where Cognigy's webchat shows it (and in data.agent for the flow's code).
    assert said["data"]["_webchat"]["agentAvatarOverrideNameOnce"] == "Alex Agent"
    assert said["data"]["agent"]["name"] == "Alex Agent"
    cognigy.wait_output(lambda o: o.get("text") == "An agent has joined the conversation.")
    # Typing has no REST counterpart in Cognigy: never a Notify (checked below, at the end).
    agent.send_typing(conversation_id)
    agent.send_attachment(conversation_id, "label.pdf", b"%PDF-1.4", "application/pdf", "Label")
    label = notified(cognigy, "Label")
    [file] = label["attachments"]
    assert (file["type"], file["name"]) == ("file", "label.pdf") and file["url"].startswith("http")
    assert "attachments" not in label["data"]

    reply = cognigy.say("My order is late")
    assert reply["outputStack"] == []
    wait_until(
        lambda: "My order is late" in reader.inbound_texts(conversation_id),
        15,
        interval=0.2,
        what="the user's reply at the agent",
    )

    sam = env.agent_client(seed.SECOND_AGENT_USERNAME, seed.SECOND_AGENT_PASSWORD)
    sam.go_on_queue()
    agent.transfer_to_queue(conversation_id, seed.SECOND_QUEUE_ID)
    agent.wrap_up(conversation_id)
    assert sam.wait_for_offer()["id"] == conversation_id
    sam.answer(conversation_id)
    sam.send_text(conversation_id, "Sam here, I take over")
    said = notified(cognigy, "Sam here, I take over")
    assert said["data"]["agent"]["name"] == "Sam Supervisor"
    assert env.ctx.store.open_handover_for_session(cognigy.key) is not None

    sam.disconnect(conversation_id)
    cognigy.wait_output(
        lambda o: o.get("text")
        == "The agent has ended the conversation. You are back with the bot."
    )
    assert cognigy.say("thanks")["text"] == BOT

    calls = cognigy.api_log()
    statuses = [
        c["body"]["data"]["handover"]["status"]
        for c in calls
        if c["call"] == "inject" and "request" not in c["body"]["data"]
    ]
    assert statuses == ["queue", "active", "completed"]
    # The `completed` input carries the engine's handover outcome, as a standalone flow gets it.
    [completed] = [
        c["body"]["data"]["handover"]
        for c in calls
        if c["call"] == "inject" and c["body"]["data"]["handover"]["status"] == "completed"
    ]
    assert completed["conversationId"] == conversation_id
    assert completed["agent"]["name"] == "Sam Supervisor"
    lines = [(line["source"], line["text"]) for line in completed["transcript"]]
    assert ("user", "My order is late") in lines and ("agent", "Sam here, I take over") in lines
    notifies = texts([c["body"] for c in calls if c["call"] == "notify"])
    assert notifies == ["Hi, I am Alex. How can I help?", "Label", "Sam here, I take over"]
    assert not any(c["body"]["data"].get("typing") for c in calls if c["call"] == "notify")
    assert all(isinstance(c["body"]["text"], str) for c in calls)
    everything = texts(cognigy.outputs(0))
    assert everything.count("Hi, I am Alex. How can I help?") == 1
    assert everything.count("Connected") == 1
    if trouble in ("429", "503"):
        assert cognigy.refused() >= 3
    assert pending_cognigy_calls(env) == []


def test_a_refused_api_key_is_a_clear_error_and_nothing_is_lost(make_bridge_env, tmp_path, caplog):
    """Cognigy refuses the key: an error in the log naming the refusal but never the key, the
    calls wait in the outbox; with the right key (after a restart) they are delivered once."""
    from tests.conftest import free_port
    from tests.scenario.cognigy_helpers import API_KEY, CognigySide, bridge_options

    api_port = free_port()
    options = bridge_options(api_port, "legacy")
    options["flags"]["COGNIGY_API_KEY"] = "wrong-cognigy-key-9876"
    env = make_bridge_env(**options)
    cognigy = CognigySide(tmp_path, env.bridge_url, api_port, route="legacy")
    try:
        env.ctx.engine.outbox.backoff_cap = 0.5  # the wait for a fixed key, shortened for the test
        with caplog.at_level("ERROR", logger="om_bridge.bridge.handover.outbox"):
            cognigy.say("agent please")
            open_conversation(env, cognigy)
            wait_until(
                lambda: any("refused" in r.getMessage() for r in caplog.records),
                20,
                what="the refused API key in the log",
            )
        assert not any("wrong-cognigy-key-9876" in r.getMessage() for r in caplog.records)
        assert pending_cognigy_calls(env)
        assert cognigy.api_log() == []
        env.restart_bridge(flags={"COGNIGY_API_KEY": API_KEY})
        cognigy.wait_output(lambda o: o.get("text") == "Connected")
        queued = "You are in the queue. An agent will be with you shortly."
        cognigy.wait_output(lambda o: o.get("text") == queued)
        assert texts(cognigy.outputs(0)).count(queued) == 1
    finally:
        cognigy.close()


def test_a_cognigy_certificate_the_bridge_cannot_verify_keeps_the_calls_waiting(
    make_bridge_env, tmp_path, tls, ca_bundle_env, monkeypatch, caplog
):
    """Cognigy's hosts serve a certificate of a CA the bridge does not trust: Inject is never
    sent (verification is on), the log names the TLS failure, the call waits in the outbox; once
    the bridge trusts that CA too, it is delivered once."""
    from tests.conftest import free_port
    from tests.scenario.cognigy_helpers import CognigySide, bridge_options
    from tests.tlsca import make_tls

    foreign = make_tls(tmp_path / "cognigy-ca")
    port = free_port()
    options = bridge_options(port, tls=tls)
    env = make_bridge_env(**options)
    cognigy = CognigySide(tmp_path, env.bridge_url, endpoint_port=port, tls=foreign)
    try:
        env.ctx.engine.outbox.backoff_cap = 0.5
        with caplog.at_level("WARNING", logger="om_bridge.bridge.handover.outbox"):
            cognigy.say("agent please")
            open_conversation(env, cognigy)  # Genesys (trusted) took the handover
            wait_until(
                lambda: any(
                    "TLS certificate not trusted" in r.getMessage() for r in caplog.records
                ),
                20,
                what="the TLS failure in the log",
            )
        assert pending_cognigy_calls(env)
        assert cognigy.api_log() == []
        both = tmp_path / "both-cas.pem"
        both.write_bytes(Path(tls.ca_bundle).read_bytes() + Path(foreign.ca_bundle).read_bytes())
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(both))  # read per call by Cognigy's client
        cognigy.wait_output(lambda o: o.get("text") == "Connected")
        wait_until(lambda: pending_cognigy_calls(env) == [], 20, what="the outbox drained")
        assert texts(cognigy.outputs(0)).count("Connected") == 1
    finally:
        cognigy.close()


def test_endpoint_service_route_with_profile_and_quiet_events(make_bridge_env, tmp_path):
    """With `endpoint_base_url` the bridge calls the endpoint service's Inject/Notify
    (`/inject|notify/<URLToken>`, no API key) and nothing reaches the API host."""
    from tests.conftest import free_port
    from tests.scenario.cognigy_helpers import CognigySide, bridge_options

    api_port, endpoint_port = free_port(), free_port()
    options = bridge_options(endpoint_port)
    options["config"]["providers"] = [{"id": "genesys-demo", "send_profile": True}]
    env = make_bridge_env(**options)
    # Send Profile: the names come from the Cognigy contact profile (`cognigy.profile`); Send
    # Queue / Active Event off: those statuses do not enter the flow.
    chart = json.loads((FLOWS / "cognigy-handover.json").read_text(encoding="utf-8"))
    for node in chart["nodes"]:
        if node["type"] == "handoverV2":
            node["config"].update(sendOnQueueEvent=False, sendOnActiveEvent=False)
    variant = tmp_path / "cognigy-handover-quiet.json"
    variant.write_text(json.dumps(chart), encoding="utf-8")
    cognigy = CognigySide(tmp_path, env.bridge_url, api_port, endpoint_port, flow=str(variant))
    cognigy.emulator.cognigy.contacts[cognigy.user_id] = {"firstname": "Jane", "lastname": "Doe"}
    try:
        cognigy.emulator.api_down()  # nothing may go to the API host
        cognigy.say("agent please")
        conversation_id = open_conversation(env, cognigy)
        attrs = SandboxReader(env.sandbox_url).customer(conversation_id)["attributes"]
        assert (attrs["firstName"], attrs["lastName"]) == ("Jane", "Doe")
        cognigy.wait_output(lambda o: o.get("text") == "Connected")
        env.agent.go_on_queue()
        env.agent.wait_for_offer()
        env.agent.answer(conversation_id)
        env.agent.send_text(conversation_id, "Hello from Alex")
        said = notified(cognigy, "Hello from Alex")
        assert said["data"]["_webchat"]["agentAvatarOverrideNameOnce"] == "Alex Agent"
        calls = cognigy.api_log()
        assert {c["call"] for c in calls} == {"inject", "notify"}
        injected = [c["body"]["data"]["handover"]["status"] for c in calls if c["call"] == "inject"]
        assert injected == ["genericHandoverUpdate"]  # "Connected"; no queue, no active
    finally:
        cognigy.close()


def test_cognigy_hosted_story_on_redis_with_a_restart(make_bridge_env, tmp_path, redis_url):
    """The same story on the Redis store, Cognigy's API down and the bridge restarted meanwhile."""
    from tests.conftest import free_port
    from tests.scenario.cognigy_helpers import CognigySide, bridge_options

    endpoint_port = free_port()
    options = bridge_options(endpoint_port)
    options["config"]["bridge"]["store"] = redis_url
    env = make_bridge_env(**options)
    cognigy = CognigySide(tmp_path, env.bridge_url, endpoint_port=endpoint_port)
    try:
        story(env, cognigy, "restart")
    finally:
        cognigy.close()


def test_a_handover_genesys_refuses_ends_in_error_in_the_cognigy_flow(make_bridge_env, tmp_path):
    """Genesys refuses the opening message (unknown deployment): the handover ends in `error`,
    injected with its message, and the flow's error case brings the user back to the bot."""
    from tests.conftest import free_port
    from tests.scenario.cognigy_helpers import CognigySide, bridge_options

    endpoint_port = free_port()
    options = bridge_options(endpoint_port)
    options["config"]["providers"] = [
        {"id": "genesys-demo", "deployment_name": "no-such-deployment"}
    ]
    env = make_bridge_env(**options)
    cognigy = CognigySide(tmp_path, env.bridge_url, endpoint_port=endpoint_port)
    try:
        assert "connecting you" in cognigy.say("agent please")["text"]
        cognigy.wait_output(
            lambda o: (o.get("text") or "").startswith(
                "Sorry, the conversation with the agent ended"
            )
        )
        [call] = [c for c in cognigy.api_log() if c["call"] == "inject"]
        event = call["body"]["data"]["handover"]
        assert event["status"] == "error" and "could not be started" in event["error"]["message"]
        assert env.ctx.store.open_handover_for_session(cognigy.key) is None
        assert cognigy.say("hello")["text"] == BOT
    finally:
        cognigy.close()


def test_agent_receipts_follow_what_cognigy_did_with_the_message(make_bridge_env, tmp_path):
    """Genesys hears Delivered once Cognigy took the Notify (not when it was queued), and Failed
    when Cognigy refused it for good."""
    env, cognigy = make_env(make_bridge_env, tmp_path)
    try:
        reader = SandboxReader(env.sandbox_url)
        cognigy.say("hello")
        cognigy.say("I want an agent")
        conversation_id = open_conversation(env, cognigy)
        agent = env.agent
        agent.go_on_queue()
        agent.wait_for_offer()
        agent.answer(conversation_id)

        def status(text: str) -> str | None:
            return (reader.outbound(conversation_id, text) or {}).get("status")

        cognigy.down()
        agent.send_text(conversation_id, "Are you there?")
        wait_retried(env)
        assert status("Are you there?") != "delivery-success"  # queued is not delivered
        cognigy.up()
        notified(cognigy, "Are you there?")
        wait_until(
            lambda: status("Are you there?") == "delivery-success",
            15,
            interval=0.2,
            what="Delivered once Cognigy took it",
        )

        cognigy.add_fault(call="notify", status=400, count=1)
        agent.send_text(conversation_id, "This one is refused")
        wait_until(
            lambda: status("This one is refused") == "delivery-failed",
            15,
            interval=0.2,
            what="Failed once Cognigy refused it for good",
        )
    finally:
        cognigy.close()
