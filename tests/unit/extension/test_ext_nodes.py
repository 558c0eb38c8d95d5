"""Each node function on its own, through the same `cognigy.api` object the runtime gives it."""

from __future__ import annotations

import pytest

from om_bridge.bridge.flow.api import RuntimeApi
from om_bridge.bridge.flow.config import evaluate_config
from om_bridge.extension.api import ChildConfig, Cognigy, NodeError, NodeParams
from om_bridge.extension.registry import NODE_TYPES
from om_bridge.extension.script import ScriptError


def run(
    node_type, config=None, *, input=None, context=None, children=(), counts=None, node_id="n1"
):
    scope = {
        "input": {"text": None, "data": {}, **(input or {})},
        "context": context if context is not None else {},
        "profile": {},
    }
    api = RuntimeApi(scope, counts or {})
    registered = NODE_TYPES[node_type]
    cfg = evaluate_config(registered.descriptor, config or {}, scope)
    kids = [
        ChildConfig(id=i, type=t, config=evaluate_config(NODE_TYPES[t].descriptor, c, scope))
        for i, t, c in children
    ]
    registered.function(
        NodeParams(
            cognigy=Cognigy(api, scope["input"], scope["context"], scope["profile"]),
            config=cfg,
            node_id=node_id,
            child_configs=kids,
        )
    )
    return api


def say_config(*texts, dest=None, data="", linear=False, loop=False):
    cfg = {
        "say": {"type": "text", "text": list(texts), "data": data, "linear": linear, "loop": loop}
    }
    if dest:
        cfg["handoverOutput"] = dest
    return cfg


# -- Say -------------------------------------------------------------------------------------------
def test_say_outputs_text_with_default_destination_user_and_agent():
    api = run("say", say_config("Hello {{ input.text }}"), input={"text": "Ann"})
    assert [(o.text, o.data, o.destination) for o in api.outputs] == [
        ("Hello Ann", None, "userAndAgent")
    ]


def test_say_user_only_relays_genesys_text():
    api = run(
        "say",
        say_config("{{ input.data.request.text }}", dest="userOnly"),
        input={"data": {"request": {"text": "You are number 2 in the queue"}}},
    )
    assert [(o.text, o.destination) for o in api.outputs] == [
        ("You are number 2 in the queue", "userOnly")
    ]


def test_say_with_data_and_empty_text_and_nothing_at_all():
    api = run("say", say_config("", data={"card": "{{ context.x }}"}), context={"x": "v"})
    assert [(o.text, o.data) for o in api.outputs] == [(None, {"card": "v"})]
    assert run("say", say_config("{{ input.data.missing }}")).outputs == []


def test_say_linear_goes_through_texts_in_order_then_repeats_last_or_loops():
    picks = [
        run("say", say_config("a", "b", linear=True), counts={"n1": c}).outputs[0].text
        for c in range(4)
    ]
    assert picks == ["a", "b", "b", "b"]
    picks = [
        run("say", say_config("a", "b", linear=True, loop=True), counts={"n1": c}).outputs[0].text
        for c in range(4)
    ]
    assert picks == ["a", "b", "a", "b"]


def test_say_random_picks_one_of_the_texts():
    seen = {run("say", say_config("a", "b")).outputs[0].text for _ in range(60)}
    assert seen == {"a", "b"}


def test_say_rejects_unknown_destination():
    with pytest.raises(NodeError, match="Handover Output Destination"):
        run("say", say_config("x", dest="everyone"))


# -- Handover to Human Agent -----------------------------------------------------------------------
def test_handover_defaults_match_the_seed():
    req = run("handoverV2", {}, node_id="h").handover_request
    assert req.node_id == "h" and req.provider is None and req.accepted_message is None
    assert req.enable_user_connects_message is True
    assert req.enable_user_disconnects_message is True
    assert req.display_agent_details is False
    assert req.flow_continuation == "resetEntrypoint"
    assert (req.language, req.skills, req.priority, req.custom_attributes) == (None, [], None, {})


def test_handover_all_settings_with_key_value_attributes():
    req = run(
        "handoverV2",
        {
            "text": "Hold on, {{ profile.firstname }}",
            "provider": "genesys-eu",
            "genesysLanguage": "english",
            "genesysSkills": ["escalation", " ", "{{ context.skill }}"],
            "genesysPriority": 3,
            "enableUserConnectsMessage": False,
            "enableUserDisconnectsMessage": False,
            "displayAgentDetails": True,
            "genesysCustomAttributesMode": "keyValue",
            "genesysCustomAttributesPairs": [
                {"key": "topic", "value": "{{ input.text }}"},
                {"key": "vip", "value": True},
            ],
            "resolveBehavior": "continueEntrypoint",
        },
        input={"text": "billing"},
        context={"skill": "billing"},
    ).handover_request
    assert req.accepted_message == "Hold on, "
    assert req.provider == "genesys-eu" and req.language == "english"
    assert req.skills == ["escalation", "billing"] and req.priority == 3
    assert req.custom_attributes == {"topic": "billing", "vip": "true"}
    assert (
        req.enable_user_connects_message,
        req.enable_user_disconnects_message,
        req.display_agent_details,
    ) == (False, False, True)
    assert req.flow_continuation == "continueEntrypoint"


def test_handover_json_custom_attributes_are_rendered_and_stringified():
    req = run(
        "handoverV2",
        {
            "genesysCustomAttributesMode": "json",
            "genesysCustomAttributes": {"region": "EU", "tier": 2, "who": "{{ input.userId }}"},
        },
        input={"userId": "u-1"},
    ).handover_request
    assert req.custom_attributes == {"region": "EU", "tier": "2", "who": "u-1"}


@pytest.mark.parametrize(
    "config, words",
    [
        (
            {
                "genesysCustomAttributesMode": "json",
                "genesysCustomAttributes": {"a": {"nested": 1}},
            },
            "'a'",
        ),
        ({"genesysCustomAttributesPairs": [{"key": " ", "value": "x"}]}, "empty key"),
        ({"genesysPriority": 1.5}, "Priority"),
        ({"genesysPriority": -1}, "Priority"),
        ({"resolveBehavior": "somewhere"}, "Flow Continuation"),
    ],
)
def test_handover_rejects_bad_settings(config, words):
    with pytest.raises(NodeError, match=words):
        run("handoverV2", config)


# -- Lookup / Case / Default -----------------------------------------------------------------------
CASES = [
    ("c1", "case", {"case": {"value": "hello"}}),
    ("c2", "case", {"case": {"value": "2"}}),
    ("d", "default", {}),
]


@pytest.mark.parametrize(
    "text, expected", [("hello", "c1"), ("Hello", "d"), ("2", "c2"), (None, "d")]
)
def test_lookup_text_is_exact_and_case_sensitive(text, expected):
    api = run(
        "switch",
        {"switch": {"type": "text", "operator": "ci.text"}},
        input={"text": text},
        children=CASES,
    )
    assert api.next_node == expected


def test_lookup_handover_status_matches_input_handover_status():
    children = [
        ("u", "case", {"case": {"value": "genericHandoverUpdate"}}),
        ("c", "case", {"case": {"value": "completed"}}),
        ("d", "default", {}),
    ]
    cfg = {"switch": {"type": "handoverStatus", "operator": "ci.handover.status"}}
    assert (
        run("switch", cfg, input={"handover": {"status": "completed"}}, children=children).next_node
        == "c"
    )
    assert (
        run(
            "switch",
            cfg,
            input={"handover": {"status": "genericHandoverUpdate"}},
            children=children,
        ).next_node
        == "u"
    )
    assert run("switch", cfg, input={"text": "completed"}, children=children).next_node == "d"


def test_lookup_without_match_or_default_continues_below_and_strict_mode_checks_types():
    assert run("switch", {}, input={"text": "x"}, children=CASES[:2]).next_node is None
    cfg = {"switch": {"type": "nlu"}}
    with pytest.raises(NodeError, match="'nlu'"):
        run("switch", cfg, children=CASES)
    strict = {"switch": {"type": "text"}, "useStrict": True}
    assert run("switch", strict, input={"text": "2"}, children=CASES).next_node == "c2"
    # Case values are text; a CognigyScript operand of 2 equals "2" only without Strict Mode.
    number = {"switch": {"type": "cognigyScript", "operator": "context.n"}}
    kids = [("c", "case", {"case": {"value": "2"}}), ("d", "default", {})]
    assert run("switch", number, context={"n": 2}, children=kids).next_node == "c"
    number["useStrict"] = True
    assert run("switch", number, context={"n": 2}, children=kids).next_node == "d"


# -- Go To -----------------------------------------------------------------------------------------
def test_go_to_continue_and_wait():
    api = run("goTo", {"flowNode": {"flow": "", "node": "target"}})
    assert (api.next_node, api.wait_node) == ("target", None)
    api = run("goTo", {"flowNode": {"node": "target"}, "executionMode": "wait"})
    assert (api.next_node, api.wait_node) == (None, "target")


def test_go_to_injects_text_when_continuing():
    api = run(
        "goTo",
        {"flowNode": {"node": "t"}, "injectedText": "agent {{ input.text }}"},
        input={"text": "pls"},
    )
    assert api.scope["input"]["text"] == "agent pls" and api.next_node == "t"


def test_go_to_without_target_is_an_error():
    with pytest.raises(NodeError, match="Select Node"):
        run("goTo", {"flowNode": {"flow": "", "node": ""}})


# -- If / Then / Else ------------------------------------------------------------------------------
IF_CHILDREN = [("t", "then", {}), ("e", "else", {})]


@pytest.mark.parametrize("text, expected", [("get me an Agent", "t"), ("hello", "e")])
def test_if_picks_then_or_else(text, expected):
    cfg = {"condition": {"type": "condition", "condition": 'input.text contains "agent"'}}
    assert run("if", cfg, input={"text": text}, children=IF_CHILDREN).next_node == expected


def test_if_with_a_bad_condition_raises_a_script_error():
    with pytest.raises(ScriptError, match="position"):
        run("if", {"condition": {"condition": "input.text =="}}, children=IF_CHILDREN)


def test_if_rule_conditions_never_hold_so_else_runs():
    rule = {"type": "rule", "condition": "", "rule": {"left": "1", "operand": "eq", "right": "1"}}
    assert run("if", {"condition": rule}, children=IF_CHILDREN).next_node == "e"


# -- Add to Context / End --------------------------------------------------------------------------
def test_add_to_context_simple_nested_and_array():
    ctx = {"list": "first"}
    run(
        "addToContext",
        {"key": "user.topic", "value": "{{ input.text }}"},
        input={"text": "billing"},
        context=ctx,
    )
    run("addToContext", {"key": "list", "value": "second", "mode": "array"}, context=ctx)
    run("addToContext", {"key": "fresh", "value": "x", "mode": "array"}, context=ctx)
    assert ctx == {"user": {"topic": "billing"}, "list": ["first", "second"], "fresh": ["x"]}


def test_add_to_context_needs_a_key():
    with pytest.raises(NodeError, match="Key"):
        run("addToContext", {"key": " ", "value": "x"})


@pytest.mark.parametrize("key", [".", "..", "{{ input.text }}"])
def test_add_to_context_key_of_only_dots_is_a_node_error(key):
    # The key is CognigyScript: rendered from user text it may hold nothing but dots.
    with pytest.raises(NodeError, match="names no property"):
        run("addToContext", {"key": key, "value": "x"}, input={"text": "..."})


def test_end_stops_execution():
    assert run("end").stopped is True
