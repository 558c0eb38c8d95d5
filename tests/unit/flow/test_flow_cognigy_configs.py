"""Real Cognigy node configs: every documented key of Handover, Lookup/Case, Say, Go To, If and Add
to Context loads; what om-bridge does not act on is reported once per flow load and ignored; values
that cannot work fail when the flow is loaded, naming the node (docs/flows.md)."""

from __future__ import annotations

import copy
import logging

import pytest

from om_bridge.bridge.flow import ChartError, FlowInput, FlowRuntime, SessionState
from om_bridge.bridge.flow.chart import Chart

HANDOVER_ALL = {
    "text": "You are now in the queue.",
    "repeatHandoverMessage": True,
    "provider": "",
    "cancelIntent": "cancelHandover",
    "quickReply": "Cancel",
    "resolveBehavior": "resetEntrypoint",
    "sendResolveEvent": True,
    "liveAgentInboxId": "inbox-1",
    "liveAgentSkills": ["billing"],
    "liveAgentLanguages": ["en"],
    "liveAgentPriority": "high",
    "getQueuePosition": True,
    "updateIntervalQueuePosition": 30,
    "getEstimatedWaitTime": True,
    "updateIntervalEstimatedWaitTime": 30,
    "alternativeUpdate": True,
    "maximumQueuePosition": 5,
    "maximumEstimatedWaitTime": 60000,
    "alternativeText": "Please wait",
    "allowAgentInject": True,
    "genesysLanguage": "english",
    "genesysSkills": ["billing"],
    "genesysPriority": "1",
    "genesysCustomAttributes": {"region": "EU"},
    "genesysCustomAttributesMode": "json",
    "genesysCustomAttributesPairs": [],
    "enableUserConnectsMessage": True,
    "enableUserDisconnectsMessage": True,
    "displayAgentDetails": True,
    "buttonId": "b-1",
    "sendTranscriptAsFirstMessage": True,
    "salesforcePrechatEntities": [{"x": 1}],
    "salesforcePrechatDetails": [{"y": 2}],
    "eightByEightChannelId": "c-1",
    "eightByEightQueueId": "q-1",
    "eightByEightJSONProps": {"a": 1},
    "additionalCategoryIds": ["cat"],
    "chatwootInboxId": "7",
    "sendOnQueueEvent": True,
    "sendOnActiveEvent": True,
    "agentAssistInitMessage": "hello copilot",
}
HANDOVER_UNSUPPORTED = {
    "cancelIntent",
    "quickReply",
    "sendResolveEvent",
    "liveAgentInboxId",
    "liveAgentSkills",
    "liveAgentLanguages",
    "liveAgentPriority",
    "getQueuePosition",
    "updateIntervalQueuePosition",
    "getEstimatedWaitTime",
    "updateIntervalEstimatedWaitTime",
    "alternativeUpdate",
    "maximumQueuePosition",
    "maximumEstimatedWaitTime",
    "alternativeText",
    "allowAgentInject",
    "buttonId",
    "sendTranscriptAsFirstMessage",
    "salesforcePrechatEntities",
    "salesforcePrechatDetails",
    "eightByEightChannelId",
    "eightByEightQueueId",
    "eightByEightJSONProps",
    "additionalCategoryIds",
    "chatwootInboxId",
    "agentAssistInitMessage",
}
SAY_EXTRA = {
    "handoverOutput": "userAndAgent",
    "preventTranscript": False,
    "generativeAI_rephraseOutput": True,
    "generativeAI_rephraseOutputMode": "fullyRephrase",
    "generativeAI_amountOfLastUserInputs": 3,
    "generativeAI_customInputs": "",
    "generativeAI_temperature": 0.2,
}
QUICK_REPLIES = {
    "type": "quickReplies",
    "text": [],
    "data": "",
    "linear": False,
    "loop": False,
    "_cognigy": {
        "_default": {
            "_quickReplies": {
                "type": "quick_replies",
                "text": "Anything else, {{ input.text }}?",
                "quickReplies": [
                    {"id": 1, "contentType": "postback", "title": "Yes", "payload": "yes"},
                    {"id": 2, "contentType": "postback", "title": "No", "payload": ""},
                ],
            }
        }
    },
}
BUTTONS = {
    "type": "buttons",
    "text": [],
    "_cognigy": {
        "_default": {
            "_buttons": {
                "type": "buttons",
                "text": "Pick one",
                "buttons": [
                    {"id": 1, "type": "postback", "title": "Talk to an agent", "payload": "agent"},
                    {"id": 2, "type": "web_url", "title": "Docs", "url": "https://example.com"},
                ],
            }
        }
    },
}


def inp(text=None, handover=None, data=None):
    return FlowInput(
        text=text,
        data=data,
        user_id="u",
        session_id="s",
        url_token="t",
        handover=handover,
    )


def full_chart():
    """A chart using every documented key of each node type."""
    nodes = [
        {"_id": "start", "type": "start"},
        {
            "_id": "ctx",
            "type": "addToContext",
            "label": "Remember",
            "config": {"key": "topic.name", "value": "{{ input.text }}", "mode": "array"},
        },
        {
            "_id": "if",
            "type": "if",
            "label": "Rule check",
            "config": {
                "condition": {
                    "type": "rule",
                    "condition": "",
                    "rule": {"left": "{{input.text}}", "operand": "eq", "right": "x"},
                }
            },
        },
        {"_id": "then", "type": "then"},
        {"_id": "else", "type": "else"},
        {
            "_id": "lookup",
            "type": "switch",
            "label": "Lookup mode",
            "isEntryPoint": True,
            "config": {
                "switch": {"type": "mode", "operator": "ci.mode", "originalOperator": "ci.mode"},
                "intentLevel": "2",
                "useStrict": False,
            },
        },
        {"_id": "case-text", "type": "case", "config": {"case": {"value": "TextOnly"}}},
        {"_id": "default", "type": "default", "config": {}},
        {
            "_id": "qr",
            "type": "say",
            "label": "Quick replies",
            "config": {"say": QUICK_REPLIES, **SAY_EXTRA},
        },
        {
            "_id": "buttons",
            "type": "say",
            "label": "Buttons",
            "config": {"say": BUTTONS, "handoverOutput": "userOnly", "preventTranscript": True},
        },
        {
            "_id": "go",
            "type": "goTo",
            "label": "Go on",
            "config": {
                "flowNode": {"flow": "full", "node": "handover"},
                "executionMode": "continue",
                "injectedText": "",
                "injectedData": {},
                "absorbContext": True,
                "parseIntents": True,
                "parseKeyphrases": True,
            },
        },
        {
            "_id": "handover",
            "type": "handoverV2",
            "label": "Handover",
            "config": HANDOVER_ALL,
        },
    ]
    relations = [
        {"node": "start", "children": [], "next": "ctx"},
        {"node": "ctx", "children": [], "next": "if"},
        {"node": "if", "children": ["then", "else"], "next": "lookup"},
        {"node": "lookup", "children": ["case-text", "default"], "next": None},
        {"node": "case-text", "children": [], "next": "qr"},
        {"node": "qr", "children": [], "next": "buttons"},
        {"node": "buttons", "children": [], "next": "go"},
        {"node": "go", "children": [], "next": None},
        {"node": "handover", "children": [], "next": None},
    ]
    return copy.deepcopy({"_id": "full", "nodes": nodes, "relations": relations})


def test_every_documented_key_loads_and_the_unsupported_ones_are_reported_once(caplog):
    chart = Chart.from_dict(full_chart(), "full")
    notes = "\n".join(chart.unsupported)
    for key in HANDOVER_UNSUPPORTED:
        assert f"({key})" in notes, key
    for key in ("intentLevel", "absorbContext", "parseIntents", "parseKeyphrases"):
        assert f"({key})" in notes, key
    for key in SAY_EXTRA:
        if key.startswith("generativeAI_") and key != "generativeAI_customInputs":
            assert f"({key})" in notes, key
    assert "Condition type 'rule'" in notes
    # Supported keys are not reported.
    for key in ("sendOnQueueEvent", "sendOnActiveEvent", "repeatHandoverMessage", "useStrict"):
        assert f"({key})" not in notes
    # Each note names its node.
    assert all(n.startswith('node "') and "(id " in n for n in chart.unsupported)
    with caplog.at_level(logging.WARNING, logger="om_bridge.bridge.flow.runtime"):
        runtime = FlowRuntime(chart)
        runtime.run(SessionState.new(), inp("hello"))
        runtime.run(SessionState.new(), inp("again"))
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == len(chart.unsupported)
    assert all("not supported here: " in m and "'full'" in m for m in logged)


def test_the_supported_keys_work_and_the_unsupported_ones_are_ignored():
    runtime = FlowRuntime(Chart.from_dict(full_chart(), "full"))
    result = runtime.run(SessionState.new(), inp("hello"))
    assert result.error is None
    # Add to Context (array), If rule -> Else, Lookup on mode, Say quick replies + buttons, Go To.
    assert result.state.context == {"topic": {"name": ["hello"]}}
    qr, buttons = result.outputs
    assert qr.text == "Anything else, hello?"
    assert qr.data == {
        "_cognigy": {
            "_default": {
                "_quickReplies": {
                    "type": "quick_replies",
                    "text": "Anything else, hello?",
                    "quickReplies": [
                        {
                            "id": 1,
                            "contentType": "postback",
                            "title": "Yes",
                            "payload": "yes",
                            "imageUrl": None,
                        },
                        {
                            "id": 2,
                            "contentType": "postback",
                            "title": "No",
                            "payload": "No",
                            "imageUrl": None,
                        },
                    ],
                }
            }
        }
    }
    assert buttons.text == "Pick one" and buttons.destination == "userOnly"
    assert [b["type"] for b in buttons.data["_cognigy"]["_default"]["_buttons"]["buttons"]] == [
        "postback",
        "web_url",
    ]
    # "Exclude from Transcript": the buttons output is not in the session transcript.
    assert [e["text"] for e in result.state.transcript] == ["hello", "Anything else, hello?"]
    request = result.handover
    assert request is not None
    assert (request.send_on_queue_event, request.send_on_active_event) == (True, True)
    assert request.repeat_handover_message is True
    assert request.priority == 1 and request.custom_attributes == {"region": "EU"}


def test_unsupported_lookup_types_take_the_default_branch_and_cognigy_script_works():
    data = full_chart()
    lookup = next(n for n in data["nodes"] if n["_id"] == "lookup")
    lookup["config"]["switch"] = {"type": "intent", "operator": "ci.intent"}
    chart = Chart.from_dict(data, "full")
    assert any("Lookup type Intent" in n for n in chart.unsupported)
    result = FlowRuntime(chart).run(SessionState.new(), inp("TextOnly"))
    assert result.outputs == [] and result.handover is None  # Default has no nodes below

    lookup["config"]["switch"] = {"type": "cognigyScript", "operator": "context.topic.name.length"}
    next(n for n in data["nodes"] if n["_id"] == "case-text")["config"]["case"]["value"] = "1"
    result = FlowRuntime(Chart.from_dict(data, "full")).run(SessionState.new(), inp("x"))
    assert [o.text for o in result.outputs] == ["Anything else, x?", "Pick one"]


def _broken(mutate):
    data = full_chart()
    nodes = {n["_id"]: n for n in data["nodes"]}
    mutate(nodes)
    with pytest.raises(ChartError) as exc:
        Chart.from_dict(data, "full")
    return str(exc.value)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (
            lambda n: n["handover"]["config"].update(genesysPriority=1.5),
            'node "Handover" (id handover): config.genesysPriority:',
        ),
        (
            lambda n: n["handover"]["config"].update(genesysPriority="high"),
            'node "Handover" (id handover): config.genesysPriority:',
        ),
        (
            lambda n: n["handover"]["config"].update(genesysCustomAttributes={"a": {"b": 1}}),
            "node \"Handover\" (id handover): custom attribute 'a' must be a text",
        ),
        (
            lambda n: n["case-text"]["config"]["case"].update(value=2),
            'node "case" (id case-text): config.case.value: 2 is not of type',
        ),
        (
            lambda n: n["lookup"]["config"]["switch"].update(type="nlu"),
            'node "Lookup mode" (id lookup): config.switch.type:',
        ),
        (
            lambda n: n["lookup"]["config"].update(
                switch={"type": "cognigyScript", "operator": "context.x =="}
            ),
            'node "Lookup mode" (id lookup): CognigyScript error',
        ),
        (
            lambda n: n["if"]["config"].update(
                condition={"type": "condition", "condition": "input.text contains"}
            ),
            'node "Rule check" (id if): CognigyScript error',
        ),
        (
            lambda n: n["qr"]["config"]["say"]["_cognigy"]["_default"]["_quickReplies"].update(
                quickReplies=[]
            ),
            "node \"Quick replies\" (id qr): Output Type 'quickReplies' needs a non-empty list",
        ),
        (
            lambda n: n["buttons"]["config"]["say"]["_cognigy"]["_default"]["_buttons"]["buttons"][
                1
            ].pop("url"),
            'node "Buttons" (id buttons): say._cognigy._default._buttons.buttons[1] is a web_url',
        ),
        (
            lambda n: n["ctx"]["config"].update(key="..."),
            'node "Remember" (id ctx): Context key',
        ),
        (
            lambda n: n["go"]["config"].update(executionMode="later"),
            'node "Go on" (id go): config.executionMode:',
        ),
    ],
)
def test_values_that_cannot_work_fail_at_load_naming_the_node(mutate, words):
    message = _broken(mutate)
    assert words in message and "'full'" in message, message


def test_a_priority_written_as_text_digits_is_accepted():
    data = full_chart()
    result = FlowRuntime(Chart.from_dict(data, "full")).run(SessionState.new(), inp("hello"))
    assert result.handover is not None and result.handover.priority == 1


def test_the_v1_handover_node_loads_with_every_key_and_hands_over():
    config = {
        "text": "An agent will be with you",
        "cancelIntent": "cancel",
        "quickReply": "Cancel",
        "unavailable": "Nobody is there",
        "unsupportedChannel": "Not here",
        "chatwootInboxId": "3",
        "liveAgentInboxId": "4",
    }
    data = {
        "_id": "v1",
        "nodes": [
            {"_id": "start", "type": "start"},
            {"_id": "h", "type": "handover", "label": "Old handover", "config": config},
        ],
        "relations": [{"node": "start", "children": [], "next": "h"}],
    }
    chart = Chart.from_dict(data, "v1")
    notes = "\n".join(chart.unsupported)
    for key in config.keys() - {"text"}:
        assert f"({key})" in notes, key
    result = FlowRuntime(chart).run(SessionState.new(), inp("agent"))
    assert result.handover is not None
    assert result.handover.accepted_message == "An agent will be with you"
    assert result.handover.flow_continuation == "resetEntrypoint"


def test_settings_left_at_their_defaults_or_empty_are_not_reported():
    from om_bridge.extension.registry import NODE_TYPES

    defaults = NODE_TYPES["handoverV2"].descriptor.defaults()
    exported = {
        **defaults,
        "cancelIntent": "",
        "liveAgentSkills": [],
        "salesforcePrechatEntities": [],
        "eightByEightJSONProps": {},
        "allowAgentInject": False,
        "liveAgentPriority": "none",
    }
    data = full_chart()
    next(n for n in data["nodes"] if n["_id"] == "handover")["config"] = exported
    say = next(n for n in data["nodes"] if n["_id"] == "qr")["config"]
    say.update(
        generativeAI_rephraseOutputMode="none",
        generativeAI_amountOfLastUserInputs=5,
        generativeAI_temperature=0.7,
        generativeAI_rephraseOutput=False,
    )
    notes = Chart.from_dict(data, "full").unsupported
    assert not [n for n in notes if "(id handover)" in n or "(id qr)" in n], notes
