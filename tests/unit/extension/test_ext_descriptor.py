"""The descriptor model: createNodeDescriptor's defaults, round-trips keeping unknown keys,
validation."""

from __future__ import annotations

import dataclasses

import pytest

from om_bridge.extension.descriptor import DescriptorError, NodeDescriptor
from om_bridge.extension.fields import Condition, Field
from om_bridge.extension.registry import NODE_TYPES

# What @cognigy/extension-tools 0.14.0 createNodeDescriptor({type: "x"}) returns (minus
# _id/preview/function).
CREATE_NODE_DESCRIPTOR_DEFAULTS = {
    "type": "x",
    "parentType": None,
    "defaultLabel": "x",
    "summary": "",
    "appearance": {
        "showIcon": True,
        "color": "#3D9FFF",
        "textColor": "black",
        "variant": "regular",
    },
    "behavior": {"stopping": False, "entrypoint": False},
    "constraints": {
        "creatable": True,
        "deletable": True,
        "editable": True,
        "collapsable": False,
        "movable": True,
        "placement": {"predecessor": {}, "successor": {}, "children": {"whitelist": []}},
    },
    "dependencies": {"children": []},
    "fields": [],
    "sections": [],
    "form": [],
    "tags": [],
    "tokens": [],
}


@pytest.mark.parametrize("node_type", sorted(NODE_TYPES))
def test_registered_descriptor_round_trips(node_type):
    d = NODE_TYPES[node_type].descriptor
    again = NodeDescriptor.from_dict(d.to_dict())
    assert again == d
    assert again.to_dict() == d.to_dict()


def test_from_dict_fills_create_node_descriptor_defaults():
    assert NodeDescriptor.from_dict({"type": "x"}).to_dict() == CREATE_NODE_DESCRIPTOR_DEFAULTS


def test_partial_appearance_and_constraints_are_merged_with_defaults():
    d = NodeDescriptor.from_dict(
        {
            "type": "x",
            "appearance": {"variant": "mini"},
            "constraints": {"editable": False, "placement": {"predecessor": {"whitelist": []}}},
        }
    )
    out = d.to_dict()
    assert out["appearance"] == {
        "showIcon": True,
        "color": "#3D9FFF",
        "textColor": "black",
        "variant": "mini",
    }
    assert out["constraints"]["editable"] is False and out["constraints"]["movable"] is True
    assert out["constraints"]["placement"] == {
        "predecessor": {"whitelist": []},
        "successor": {},
        "children": {"whitelist": []},
    }


def test_unknown_keys_survive_at_every_level():
    raw = {
        "type": "x",
        "futureProp": {"a": [1, 2]},
        "appearance": {"contrastTextColor": "white"},
        "constraints": {"childFlowCreatable": True},
        "fields": [
            {
                "key": "a",
                "label": {"default": "A", "deDE": "A!"},
                "type": "select",
                "params": {"options": [{"label": "One", "value": 1}]},
                "optionsResolver": {"dependencies": ["b"]},
                "resetOption": {"lookupValue": 1},
            },
            {"key": "b", "label": "B", "type": "text"},
        ],
        "sections": [{"key": "s", "label": "S", "fields": ["a"], "extraSectionProp": 1}],
        "form": [{"key": "s", "type": "section"}, {"key": "b", "type": "field"}],
        "tokens": [{"label": "Token", "type": "context", "script": "context.a"}],
        "preview": {"type": "text", "key": "b"},
    }
    out = NodeDescriptor.from_dict(raw).to_dict()
    assert out["futureProp"] == {"a": [1, 2]}
    assert out["appearance"]["contrastTextColor"] == "white"
    assert out["constraints"]["childFlowCreatable"] is True
    assert out["fields"][0]["optionsResolver"] == {"dependencies": ["b"]}
    assert out["fields"][0]["resetOption"] == {"lookupValue": 1}
    assert out["fields"][0]["label"] == {"default": "A", "deDE": "A!"}
    assert out["sections"][0]["extraSectionProp"] == 1
    assert out["tokens"] == raw["tokens"] and out["preview"] == raw["preview"]
    assert NodeDescriptor.from_dict(out).to_dict() == out


def test_descriptors_are_immutable_values():
    d = NODE_TYPES["say"].descriptor
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.type = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        d.field("handoverOutput").params["options"] = []  # type: ignore[index]
    assert isinstance(d.fields, tuple)


def test_nested_conditions_round_trip_and_evaluate():
    raw = {
        "or": [
            {"and": [{"key": "mode", "value": "json"}, {"key": "on", "value": True}]},
            {"key": "mode", "value": ["a", "b"], "negate": True},
        ]
    }
    cond = Condition.from_dict(raw)
    assert cond.to_dict() == raw
    assert cond.keys() == ["mode", "on", "mode"]
    assert cond.holds({"mode": "json", "on": True})
    assert cond.holds({"mode": "c"})
    assert not cond.holds({"mode": "a"})


def _field(key, type_="text"):
    return {"key": key, "label": key.title(), "type": type_}


@pytest.mark.parametrize(
    "raw, words",
    [
        ({"fields": [_field("a"), _field("a")]}, ["duplicate field", "'a'"]),
        (
            {"fields": [_field("a")], "form": [{"key": "nope", "type": "field"}]},
            ["missing field", "'nope'"],
        ),
        (
            {"fields": [_field("a")], "form": [{"key": "sec", "type": "section"}]},
            ["missing section", "'sec'"],
        ),
        (
            {
                "fields": [_field("a")],
                "sections": [{"key": "s", "label": "S", "fields": ["a", "zz"]}],
            },
            ["section 's'", "missing field 'zz'"],
        ),
        ({"fields": [_field("a", "colourPicker")]}, ["unknown type", "'colourPicker'", "'a'"]),
        ({"fields": [{**_field("a"), "condition": {"key": "ghost", "value": 1}}]}, ["'ghost'"]),
        ({"fields": [_field("a")], "preview": {"type": "text", "key": "b"}}, ["preview", "'b'"]),
        ({"fields": [{**_field("a"), "condition": {"and": []}}]}, ["condition", "'a'"]),
        ({"fields": [{"key": "a", "type": "text"}]}, ["'label'"]),
    ],
)
def test_invalid_descriptors_are_rejected_naming_descriptor_and_key(raw, words):
    with pytest.raises(DescriptorError) as exc:
        NodeDescriptor.from_dict({"type": "myNode", **raw})
    message = str(exc.value)
    assert "'myNode'" in message
    for word in words:
        assert word in message


def test_direct_construction_is_validated_too():
    with pytest.raises(DescriptorError, match="duplicate field key 'k'"):
        NodeDescriptor(type="n", fields=(Field("k", "K", "text"), Field("k", "K2", "toggle")))


def test_platform_field_types_are_accepted():
    d = NodeDescriptor(
        type="n", fields=(Field("kv", "KV", "keyValuePairs"), Field("c", "C", "caseNode"))
    )
    assert [f.type for f in d.fields] == ["keyValuePairs", "caseNode"]


def test_defaults_are_the_fields_default_values():
    say = NODE_TYPES["say"].descriptor.defaults()
    assert say["handoverOutput"] == "userAndAgent"
    handover = NODE_TYPES["handoverV2"].descriptor.defaults()
    assert handover["enableUserConnectsMessage"] is True
    assert handover["enableUserDisconnectsMessage"] is True
    assert handover["displayAgentDetails"] is False
    assert "genesysPriority" not in handover  # no default: unset priority
