"""The flow runtime: Cognigy's Genesys recipe, the demo bot, entrypoints, waits and cycle
protection."""

from __future__ import annotations

import dataclasses
import json

import pytest

from om_bridge.bridge.flow import Chart, FlowInput, FlowRuntime, SessionState, load_chart


def inp(text=None, data=None, handover=None):
    return FlowInput(
        text=text,
        data=data,
        user_id="user-1",
        session_id="session-1",
        url_token="demo",
        handover=handover,
    )


def genesys_update(text):
    return inp(data={"request": {"text": text}}, handover={"status": "genericHandoverUpdate"})


class Conversation:
    """Feeds inputs through a runtime, carrying the state along."""

    def __init__(self, chart, **kw):
        self.runtime = FlowRuntime(chart, **kw)
        self.state = SessionState.new()

    def send(self, flow_input):
        result = self.runtime.run(self.state, flow_input)
        self.state = result.state
        return result


# -- Cognigy's recipe ------------------------------------------------------------------------------
def test_seed_recipe_relays_genesys_bot_messages_to_the_user_only_again_and_again():
    conv = Conversation(load_chart("genesys-handover"))
    first = conv.send(inp("I need help"))
    assert (
        first.handover is not None and first.handover.node_id == "handover" and first.outputs == []
    )
    assert conv.state.wait_node == "lookup-status"  # flow continuation "Below this Node"

    result = conv.send(genesys_update("You are number 2 in the queue"))
    assert result.error is None and result.handover is None
    assert [(o.text, o.data, o.destination) for o in result.outputs] == [
        ("You are number 2 in the queue", None, "userOnly")
    ]
    assert conv.state.wait_node == "lookup-status" and conv.state.entrypoint == "lookup-status"

    again = conv.send(genesys_update("You are number 1 in the queue"))
    assert [(o.text, o.destination) for o in again.outputs] == [
        ("You are number 1 in the queue", "userOnly")
    ]
    assert conv.state.wait_node == "lookup-status"


@pytest.mark.parametrize(
    "status, words",
    [
        ("completed", "completed the conversation"),
        ("cancelled", "cancelled"),
        ("error", "no agent"),
    ],
)
def test_seed_recipe_answers_the_end_statuses(status, words):
    conv = Conversation(load_chart("genesys-handover"))
    conv.send(inp("help"))
    conv.send(genesys_update("You are number 2 in the queue"))
    result = conv.send(inp(handover={"status": status}))
    assert len(result.outputs) == 1 and words in result.outputs[0].text
    assert conv.state.wait_node is None and conv.state.entrypoint == "lookup-status"
    # a later user message lands on the Lookup (no status -> Default) and hands over again
    again = conv.send(inp("one more thing"))
    assert again.handover is not None and again.handover.node_id == "handover"


# -- the demo bot ----------------------------------------------------------------------------------
def test_demo_bot_full_conversation():
    conv = Conversation(load_chart("demo-bot"))
    hello = conv.send(inp("hello"))
    assert "agent" in hello.outputs[0].text and "Hi" in hello.outputs[0].text
    assert conv.state.context == {"greeted": "true"}
    answer = conv.send(inp("what can you do?"))
    assert len(answer.outputs) == 1 and 'You said: "what can you do?"' in answer.outputs[0].text

    handover = conv.send(inp("Please get me an AGENT"))
    assert [o.text for o in handover.outputs] == ["Connecting you to a human agent…"]
    req = handover.handover
    assert req.language == "english" and req.skills == ["demo"] and req.priority == 1
    assert req.custom_attributes == {
        "source": "om-bridge demo bot",
        "firstMessage": "Please get me an AGENT",
    }

    relay = conv.send(genesys_update("Connected"))
    assert [(o.text, o.destination) for o in relay.outputs] == [("Connected", "userOnly")]
    back = conv.send(inp(handover={"status": "completed"}))
    assert "back" in back.outputs[0].text
    after = conv.send(inp("thanks"))
    assert after.handover is None and 'You said: "thanks"' in after.outputs[0].text
    again = conv.send(inp("agent again please"))
    assert again.handover is not None


def test_transcript_holds_user_inputs_and_bot_outputs_but_not_handover_events():
    conv = Conversation(load_chart("demo-bot"))
    conv.send(inp("hello"))
    conv.send(inp("agent"))
    conv.send(genesys_update("You are number 2 in the queue"))
    sources = [(e["source"], e["text"]) for e in conv.state.transcript]
    assert (
        sources[0] == ("user", "hello")
        and sources[1][0] == "bot"
        and sources[3] == ("user", "agent")
    )
    assert sources[-1] == ("bot", "You are number 2 in the queue")
    assert all(e["time"].endswith("Z") for e in conv.state.transcript)
    assert ("user", None) not in sources


def test_transcript_keeps_only_the_newest_entries():
    from om_bridge.bridge.flow.state import TRANSCRIPT_KEPT

    conv = Conversation(load_chart("demo-bot"))
    for n in range(TRANSCRIPT_KEPT):  # each input: the user's text and the bot's answer
        conv.send(inp(f"message {n}"))
    transcript = conv.state.transcript
    assert len(transcript) == TRANSCRIPT_KEPT
    assert transcript[-2]["text"] == f"message {TRANSCRIPT_KEPT - 1}"
    assert transcript[0]["text"] == f"message {TRANSCRIPT_KEPT // 2}"
    assert len(SessionState.from_dict(conv.state.to_dict()).transcript) == TRANSCRIPT_KEPT


def test_run_does_not_modify_the_given_state_and_state_round_trips():
    rt = FlowRuntime(load_chart("demo-bot"))
    state = SessionState.new()
    result = rt.run(state, inp("hello"))
    assert state == SessionState.new()
    assert SessionState.from_dict(json.loads(json.dumps(result.state.to_dict()))) == result.state


# -- small charts for the rules --------------------------------------------------------------------
def say_node(_id, text, **extra):
    return {
        "_id": _id,
        "type": "say",
        "label": f"Say {_id}",
        "config": {"say": {"type": "text", "text": [text]}},
        **extra,
    }


def chart(nodes, relations):
    return Chart.from_dict(
        {
            "_id": "t",
            "nodes": [{"_id": "start", "type": "start"}, *nodes],
            "relations": [{"node": "start", "children": [], "next": nodes[0]["_id"]}, *relations],
        },
        "test",
    )


def rel(node, nxt=None, children=()):
    return {"node": node, "children": list(children), "next": nxt}


def goto(_id, target, mode="continue"):
    return {
        "_id": _id,
        "type": "goTo",
        "label": f"Go {_id}",
        "config": {"flowNode": {"flow": "", "node": target}, "executionMode": mode},
    }


def test_go_to_loop_without_wait_stops_with_an_error_naming_the_node():
    c = chart(
        [say_node("a", "tick", isEntryPoint=True), goto("loop", "a")],
        [rel("a", "loop"), rel("loop")],
    )
    result = FlowRuntime(c, max_steps=25).run(SessionState.new(), inp("x"))
    assert result.error is not None and result.error.node_id in {"a", "loop"}
    assert "25" in result.error.message and "wait for Input" in result.error.message
    assert result.error.node_label in {"Say a", "Go loop"}
    assert len(result.outputs) >= 10 and result.handover is None


def test_bad_expression_is_an_error_naming_node_id_and_label_with_outputs_so_far():
    c = chart(
        [say_node("a", "first"), say_node("b", "{{ input.text == }}")], [rel("a", "b"), rel("b")]
    )
    result = FlowRuntime(c).run(SessionState.new(), inp("x"))
    assert [o.text for o in result.outputs] == ["first"]
    assert (result.error.node_id, result.error.node_label) == ("b", "Say b")
    assert (
        "(id b)" in str(result.error)
        and "Say b" in str(result.error)
        and "position" in str(result.error)
    )


def test_entrypoint_is_where_the_next_input_starts():
    c = chart(
        [say_node("a", "once"), say_node("b", "every time", isEntryPoint=True)],
        [rel("a", "b"), rel("b")],
    )
    conv = Conversation(c)
    assert [o.text for o in conv.send(inp("1")).outputs] == ["once", "every time"]
    assert [o.text for o in conv.send(inp("2")).outputs] == ["every time"]


def test_wait_for_input_resumes_at_the_target_once():
    c = chart(
        [say_node("a", "A", isEntryPoint=True), say_node("b", "B"), goto("g", "b", "wait")],
        [rel("a", "g"), rel("g"), rel("b")],
    )
    conv = Conversation(c)
    assert [o.text for o in conv.send(inp("1")).outputs] == ["A"]
    assert conv.state.wait_node == "b"
    assert [o.text for o in conv.send(inp("2")).outputs] == ["B"]
    assert conv.state.wait_node is None
    assert [o.text for o in conv.send(inp("3")).outputs] == ["A"]


def test_branches_continue_below_their_parent_and_disabled_nodes_are_skipped():
    nodes = [
        {"_id": "if", "type": "if", "config": {"condition": {"condition": "input.text == 'y'"}}},
        {"_id": "then", "type": "then"},
        {"_id": "else", "type": "else"},
        say_node("yes", "yes"),
        say_node("no", "no"),
        say_node("off", "disabled", isDisabled=True),
        say_node("after", "after"),
    ]
    c = chart(
        nodes,
        [
            rel("if", "off", ["then", "else"]),
            rel("then", "yes"),
            rel("else", "no"),
            rel("off", "after"),
        ],
    )
    rt = FlowRuntime(c)
    assert [o.text for o in rt.run(SessionState.new(), inp("y")).outputs] == ["yes", "after"]
    assert [o.text for o in rt.run(SessionState.new(), inp("n")).outputs] == ["no", "after"]


def test_continue_entrypoint_handover_resumes_at_the_current_entrypoint():
    nodes = [
        say_node("a", "entry", isEntryPoint=True),
        {"_id": "h", "type": "handoverV2", "config": {"resolveBehavior": "continueEntrypoint"}},
        say_node("below", "below"),
    ]
    conv = Conversation(chart(nodes, [rel("a", "h"), rel("h", "below"), rel("below")]))
    assert conv.send(inp("1")).handover.flow_continuation == "continueEntrypoint"
    assert conv.state.wait_node is None
    assert [o.text for o in conv.send(inp(handover={"status": "completed"})).outputs] == ["entry"]


def test_reset_entrypoint_handover_resumes_below_the_node():
    nodes = [
        say_node("a", "entry", isEntryPoint=True),
        {"_id": "h", "type": "handoverV2"},
        say_node("below", "below"),
    ]
    conv = Conversation(chart(nodes, [rel("a", "h"), rel("h", "below"), rel("below")]))
    conv.send(inp("1"))
    assert [o.text for o in conv.send(inp(handover={"status": "completed"})).outputs] == ["below"]


def test_unregistered_node_types_are_refused_up_front():
    c = load_chart("demo-bot")
    nodes = {**c.nodes, "x": dataclasses.replace(c.nodes["start"], id="x", type="nope")}
    with pytest.raises(ValueError, match="'nope'"):
        FlowRuntime(dataclasses.replace(c, nodes=nodes))
