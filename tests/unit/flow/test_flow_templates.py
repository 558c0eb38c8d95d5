"""Flow templates validate against the chart schema; every node type they use is registered; broken
charts are refused with a message naming the problem."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from om_bridge import schemas
from om_bridge.bridge.flow import (
    ChartError,
    FlowInput,
    FlowRuntime,
    SessionState,
    load_chart,
    template_names,
)
from om_bridge.bridge.flow.chart import Chart
from om_bridge.extension.registry import NODE_TYPES

TEMPLATES = ["demo-bot", "genesys-handover"]


def raw(name):
    return json.loads(
        resources.files("om_bridge.flows").joinpath(f"{name}.json").read_text(encoding="utf-8")
    )


def test_both_templates_ship():
    assert set(TEMPLATES) <= set(template_names())


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_validates_against_the_chart_schema(name):
    assert list(schemas.validator("chart").iter_errors(raw(name))) == []
    FlowRuntime(load_chart(name))


@pytest.mark.parametrize("name", template_names())
def test_every_node_type_of_a_template_is_registered_and_has_a_schema(name):
    for node in raw(name)["nodes"]:
        assert node["type"] in NODE_TYPES, (
            f"{name}: node {node['_id']} has unregistered type {node['type']}"
        )
        schemas.load_schema(f"nodes/{node['type']}")


def _demo_run(state, text):  # type: ignore[no-untyped-def]
    runtime = FlowRuntime(load_chart("demo-bot"))
    result = runtime.run(
        state, FlowInput(text=text, data=None, user_id="u", session_id="s", url_token="demo")
    )
    assert result.error is None
    return [o.text for o in result.outputs], result.state


def test_demo_bot_greets_on_get_started_and_then_answers():
    """The webchat's Get Started input (Cognigy's GET_STARTED) gets the greeting alone; the
    first real message then gets its answer, not a second greeting."""
    said, state = _demo_run(SessionState.new(), "GET_STARTED")
    assert len(said) == 1 and said[0].startswith("Hi! I'm the om-bridge demo bot.")
    said, state = _demo_run(state, "hello")
    assert len(said) == 1 and said[0].startswith('You said: "hello"')


def test_demo_bot_without_get_started_greets_with_the_first_answer():
    said, _ = _demo_run(SessionState.new(), "hello")
    assert said[0].startswith("Hi! I'm the om-bridge demo bot.")
    assert said[1].startswith('You said: "hello"')


def test_genesys_handover_template_is_the_seed_recipe():
    chart = load_chart("genesys-handover")
    nodes = chart.nodes
    handover = next(n for n in nodes.values() if n.type == "handoverV2")
    assert handover.label == "Handover to Human Agent"
    lookup = nodes[chart.successor(handover.id)]
    assert lookup.type == "switch" and lookup.is_entry_point
    assert lookup.config["switch"]["type"] == "handoverStatus"
    cases = {
        nodes[c].config["case"]["value"]: c
        for c in chart.children[lookup.id]
        if nodes[c].type == "case"
    }
    assert set(cases) == {"genericHandoverUpdate", "completed", "cancelled", "error"}
    say = nodes[chart.next[cases["genericHandoverUpdate"]]]
    assert say.type == "say" and say.config["say"]["text"] == ["{{ input.data.request.text }}"]
    assert say.config["handoverOutput"] == "userOnly"
    go_to = nodes[chart.next[say.id]]
    assert go_to.type == "goTo" and go_to.config["flowNode"]["node"] == lookup.id
    assert go_to.config["executionMode"] == "wait"


def _chart(**changes):
    data = copy.deepcopy(raw("genesys-handover"))
    for fn in changes.values():
        fn(data)
    return data


def _node(data, _id):
    return next(n for n in data["nodes"] if n["_id"] == _id)


def _rel(data, _id):
    return next(r for r in data["relations"] if r["node"] == _id)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (
            lambda d: _node(d, "say-genesys-message").update(type="sayy"),
            'node "Send Genesys message to user" (id say-genesys-message): type:',
        ),
        (lambda d: _rel(d, "handover").update(next="ghost"), "missing node 'ghost'"),
        (lambda d: _rel(d, "start").update(next="lookup-status"), "placed twice"),
        (lambda d: _rel(d, "handover").update(children=["case-error"]), "cannot be a child"),
        (
            lambda d: _node(d, "goto-lookup")["config"]["flowNode"].update(node="ghost"),
            "selects missing node",
        ),
        (
            lambda d: _node(d, "goto-lookup")["config"]["flowNode"].update(flow="other-flow"),
            "another flow",
        ),
        (lambda d: _node(d, "start").update(type="end"), "exactly one start"),
        (lambda d: d["nodes"].append(copy.deepcopy(_node(d, "end"))), "duplicate node _id"),
        (
            lambda d: d["relations"].append({"node": "nobody", "children": [], "next": None}),
            "missing node 'nobody'",
        ),
        (
            lambda d: d["nodes"].append(
                {"_id": "lost-case", "type": "case", "config": {"case": {"value": "x"}}}
            ),
            "must be a child",
        ),
    ],
)
def test_broken_charts_are_refused(mutate, words):
    with pytest.raises(ChartError) as exc:
        Chart.from_dict(_chart(m=mutate), "broken")
    assert "'broken'" in str(exc.value) and words in str(exc.value)


def test_load_chart_from_a_path_and_unknown_names(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(raw("demo-bot")), encoding="utf-8")
    assert load_chart(str(path)).name == "mine"
    with pytest.raises(ChartError, match="demo-bot"):
        load_chart("no-such-flow")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ChartError, match="not JSON"):
        load_chart(str(bad))
