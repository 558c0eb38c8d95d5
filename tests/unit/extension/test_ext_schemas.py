"""JSON Schemas: generated from the descriptors (no drift), valid draft 2020-12, loadable with
$refs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from om_bridge import schemas
from om_bridge.extension import schemagen
from om_bridge.extension.registry import NODE_TYPES

ROOT = Path(schemas.__file__).parent


@pytest.mark.parametrize("rel", sorted(schemagen.generated()))
def test_committed_schema_equals_the_one_generated_from_descriptors(rel):
    committed = (ROOT / rel).read_text(encoding="utf-8")
    assert committed == schemagen.dumps(schemagen.generated()[rel]), (
        f"schemas/{rel} drifted from the descriptors; run `python -m extension.schemagen`"
    )


def test_every_registered_type_has_a_schema_and_every_node_schema_a_type():
    files = {p.stem for p in (ROOT / "nodes").glob("*.json")}
    assert files == set(NODE_TYPES)


@pytest.mark.parametrize("name", schemas.names())
def test_every_schema_file_is_valid_2020_12_and_gets_a_validator(name):
    Draft202012Validator.check_schema(schemas.load_schema(name))
    assert schemas.validator(name) is schemas.validator(name)  # cached


@pytest.mark.parametrize("node_type", sorted(NODE_TYPES))
def test_descriptor_defaults_validate(node_type):
    config = NODE_TYPES[node_type].descriptor.defaults()
    if node_type == "goTo":
        config["flowNode"] = {"flow": "", "node": "somewhere"}
    assert list(schemas.validator(f"nodes/{node_type}").iter_errors(config)) == []


@pytest.mark.parametrize(
    "node_type, config, where",
    [
        (
            "say",
            {"say": {"type": "text", "text": ["x"]}, "handoverOutput": "everyone"},
            ["handoverOutput"],
        ),
        ("say", {"handoverOutput": "userOnly"}, []),  # the required `say` output is missing
        ("say", {"say": {"type": "text", "text": ["x"]}, "sayy": 1}, []),  # typo'd key
        ("goTo", {"flowNode": {"flow": "", "node": ""}}, ["flowNode", "node"]),
        ("goTo", {"flowNode": {"node": "a"}, "executionMode": "later"}, ["executionMode"]),
        ("switch", {"switch": {"type": "nlu"}}, ["switch", "type"]),
        ("case", {"case": {"value": 2}}, ["case", "value"]),
        ("handoverV2", {"genesysPriority": 1.5}, ["genesysPriority"]),
        ("say", {"say": {"type": "carousel", "text": []}}, ["say", "type"]),
        ("case", {"case": {"value": {"x": 1}}}, ["case", "value"]),
        ("handoverV2", {"genesysPriority": "high"}, ["genesysPriority"]),
        (
            "handoverV2",
            {"genesysCustomAttributesPairs": [{"key": "a"}]},
            ["genesysCustomAttributesPairs", 0],
        ),
        ("handoverV2", {"enableUserConnectsMessage": "yes"}, ["enableUserConnectsMessage"]),
        ("if", {"condition": {"type": "rule"}}, ["condition"]),
        ("addToContext", {"value": "x"}, []),
    ],
)
def test_bad_configs_are_rejected_at_the_right_place(node_type, config, where):
    errors = list(schemas.validator(f"nodes/{node_type}").iter_errors(config))
    assert errors
    assert any(list(e.absolute_path) == where for e in errors)


def test_chart_schema_refs_the_node_schemas():
    chart = {
        "nodes": [
            {"_id": "s", "type": "start"},
            {
                "_id": "a",
                "type": "say",
                "config": {"say": {"type": "text", "text": ["x"]}, "handoverOutput": "nobody"},
            },
        ],
        "relations": [{"node": "s", "children": [], "next": "a"}],
    }
    errors = list(schemas.validator("chart").iter_errors(chart))
    assert [list(e.absolute_path) for e in errors] == [["nodes", 1, "config", "handoverOutput"]]


def test_chart_schema_rejects_unknown_node_types_and_keys():
    chart = {"nodes": [{"_id": "s", "type": "teleport"}], "relations": [], "extra": 1}
    paths = sorted(
        json.dumps(list(e.absolute_path)) for e in schemas.validator("chart").iter_errors(chart)
    )
    assert paths == ['["nodes", 0, "type"]', "[]"]


def test_load_schema_names_unknown_schema_and_returns_copies():
    with pytest.raises(KeyError, match="nope"):
        schemas.load_schema("nope")
    first = schemas.load_schema("chart")
    first["title"] = "changed"
    assert schemas.load_schema("chart.json")["title"] != "changed"
    assert schemas.load_schema("nodes/say")["$id"].endswith("/nodes/say.json")
