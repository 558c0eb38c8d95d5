"""The Cognigy emulator's own flow engine: Cognigy's built-in nodes as documented (Say in turn
when Linear, If with a Rule or a JavaScript condition, Lookup by type with Strict Mode, Go To
continue with injected text or wait, Add to / Remove from Context, Get Transcript), CognigyScript
evaluated as JavaScript in the Node.js runner."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from om_bridge.extension.build import build_extension
from om_bridge.sandbox.cognigy.flows import FlowEngine, FlowLoadError, FlowState, chart_from_dict
from om_bridge.sandbox.cognigy.noderunner import NodeRunner, extract_extension

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def runner():
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        archive = build_extension(Path(tmp) / "dist")
        runner = NodeRunner(extract_extension(archive, Path(tmp) / "ext"))
        try:
            yield runner
        finally:
            runner.close()


def say(_id: str, *texts: str, linear: bool = False, loop: bool = False) -> dict:
    return {
        "_id": _id,
        "type": "say",
        "config": {"say": {"type": "text", "text": list(texts), "linear": linear, "loop": loop}},
    }


def engine(runner: NodeRunner, nodes: list[dict], relations: list[dict]) -> FlowEngine:
    chart = chart_from_dict(
        {"_id": "f", "nodes": [{"_id": "start", "type": "start"}, *nodes], "relations": relations},
        "f",
    )
    return FlowEngine(chart, runner, "om-bridge-extension", {})


def run(flow: FlowEngine, state: FlowState, text: str | None, data: dict | None = None) -> list:
    result = flow.run(state, {"text": text, "data": data, "userId": "u", "sessionId": "s"})
    assert result.error is None, result.error
    return [o["text"] for o in result.outputs]


def test_context_if_and_lookup(runner):
    flow = engine(
        runner,
        [
            {
                "_id": "ctx",
                "type": "addToContext",
                "config": {"key": "seen.texts", "value": "{{ input.text }}", "mode": "array"},
            },
            {
                "_id": "if",
                "type": "if",
                "config": {
                    "condition": {
                        "type": "condition",
                        "condition": "context.seen.texts.length > 1 && input.text.includes('x')",
                    }
                },
            },
            {"_id": "then", "type": "then"},
            {"_id": "else", "type": "else"},
            say("twice", "second time, {{ context.seen.texts.join('+') }}"),
            {
                "_id": "lookup",
                "type": "switch",
                "config": {"switch": {"type": "text", "operator": ""}, "useStrict": False},
            },
            {"_id": "case-a", "type": "case", "config": {"case": {"value": "a"}}},
            {"_id": "default", "type": "default"},
            say("said-a", "you said a"),
            say("other", "something else: {{ input.text }}"),
        ],
        [
            {"node": "start", "children": [], "next": "ctx"},
            {"node": "ctx", "children": [], "next": "if"},
            {"node": "if", "children": ["then", "else"], "next": None},
            {"node": "then", "children": [], "next": "twice"},
            {"node": "else", "children": [], "next": "lookup"},
            {"node": "lookup", "children": ["case-a", "default"], "next": None},
            {"node": "case-a", "children": [], "next": "said-a"},
            {"node": "default", "children": [], "next": "other"},
        ],
    )
    state = FlowState()
    assert run(flow, state, "a") == ["you said a"]
    assert run(flow, state, "b") == ["something else: b"]
    assert run(flow, state, "x") == ["second time, a+b+x"]
    assert state.context == {"seen": {"texts": ["a", "b", "x"]}}
    # A condition that throws is false (Else), as an expression that fails renders as "".
    assert run(flow, FlowState(), None) == ["something else: "]


def test_rule_operands_strict_lookup_go_to_and_transcript(runner):
    flow = engine(
        runner,
        [
            {
                "_id": "if",
                "type": "if",
                "isEntryPoint": True,
                "config": {
                    "condition": {
                        "type": "rule",
                        "rule": {"left": "{{ input.text }}", "operand": "gte", "right": "10"},
                    }
                },
            },
            {"_id": "then", "type": "then"},
            {"_id": "else", "type": "else"},
            {
                "_id": "go",
                "type": "goTo",
                "config": {
                    "flowNode": {"flow": "f", "node": "lookup"},
                    "executionMode": "continue",
                    "injectedText": "big",
                },
            },
            {
                "_id": "lookup",
                "type": "switch",
                "config": {
                    "switch": {"type": "cognigyScript", "operator": "input.data && input.data.n"},
                    "useStrict": True,
                },
            },
            {"_id": "case-1", "type": "case", "config": {"case": {"value": "1"}}},
            {"_id": "default", "type": "default"},
            say("one", "strictly one"),
            say("nope", "not strictly one: {{ input.text }}"),
            {
                "_id": "transcript",
                "type": "getTranscript",
                "config": {"limit": 5, "storeLocation": "context", "contextKey": "t"},
            },
            say("linear", "first", "second", linear=True),
            {
                "_id": "wait",
                "type": "goTo",
                "config": {"flowNode": {"flow": "f", "node": "linear"}, "executionMode": "wait"},
            },
        ],
        [
            {"node": "start", "children": [], "next": "if"},
            {"node": "if", "children": ["then", "else"], "next": None},
            {"node": "then", "children": [], "next": "go"},
            {"node": "else", "children": [], "next": "lookup"},
            {"node": "lookup", "children": ["case-1", "default"], "next": "transcript"},
            {"node": "case-1", "children": [], "next": "one"},
            {"node": "default", "children": [], "next": "nope"},
            {"node": "transcript", "children": [], "next": "linear"},
            {"node": "linear", "children": [], "next": "wait"},
        ],
    )
    state = FlowState()
    # "12" >= 10 → Then → Go To (continue, injected text) → Lookup: the number 1 is not the text
    # "1" in Strict Mode → Default.
    assert run(flow, state, "12", {"n": 1}) == ["not strictly one: big", "first"]
    steps = state.context["t"]
    assert steps[0] == {
        "role": "user",
        "type": "input",
        "payload": {"text": "12", "data": {"n": 1}},
        "timestamp": steps[0]["timestamp"],
    }
    assert state.wait_node == "linear"
    # The next input starts at the Go To's target; Linear says the next text.
    assert run(flow, state, "hello") == ["second"]
    # The Go To waits at the same node again; Linear without Loop stays at its last text.
    assert run(flow, state, "again") == ["second"] and state.wait_node == "linear"
    # Without a pending wait the run starts at the entrypoint (the If): "3" < 10 → Else →
    # Lookup: the text "1" is strictly "1".
    state.wait_node = None
    assert run(flow, state, "3", {"n": "1"}) == ["strictly one", "second"]


def test_a_node_type_the_emulator_does_not_know_fails_at_load(runner):
    with pytest.raises(FlowLoadError, match="no built-in node 'code'"):
        engine(runner, [{"_id": "c", "type": "code", "config": {}}], [])
