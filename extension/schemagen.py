"""Generates the JSON Schemas (draft 2020-12) of every node config and of the chart format from the
registered descriptors, so schemas and descriptors cannot drift: `python -m extension.schemagen`
rewrites `schemas/nodes/*.json` and `schemas/chart.json`, and a test fails when they differ."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from om_bridge.schemas import SCHEMA_BASE

from ._values import thaw
from .descriptor import NodeDescriptor
from .fields import MISSING, Field
from .nodes._support import is_unsupported
from .nodes.say import OUTPUT_TYPES
from .registry import NODE_TYPES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_STRING_TYPES = {
    "text",
    "cognigyText",
    "xml",
    "typescript",
    "time",
    "date",
    "datetime",
    "code",
    "connection",
    "localeField",
    "flow",
    "node",
    "state",
}
_LIST_TYPES = {"textArray", "chipInput", "cognigyTextArray"}
_SCALAR = {"type": ["string", "number", "boolean"]}


def _options(field: Field) -> list[Any]:
    return [thaw(v) for v in field.options]


def value_schema(field: Field) -> dict[str, Any]:
    """The schema of one field's value, by field type (and params: options, min, max)."""
    t = field.type
    if t == "cognigyText" and field.params.get("step") == 1:
        # A whole number given as text or as CognigyScript (Cognigy's Priority), or a number.
        low = field.params.get("min")
        number: dict[str, Any] = {"type": "integer"}
        if low is not None:
            number["minimum"] = low
        digits = r"^\s*\d+\s*$" if (low or 0) >= 0 else r"^\s*-?\d+\s*$"
        return {
            "anyOf": [
                number,
                {"type": "string", "pattern": digits},
                {"type": "string", "pattern": r"\{\{"},
                {"const": ""},
            ]
        }
    if t in _STRING_TYPES:
        return {"type": "string"}
    if t == "select":
        return {"enum": _options(field)}
    if t in ("toggle", "checkbox"):
        return {"type": "boolean"}
    if t in ("number", "slider"):
        whole = field.params.get("step") == 1
        out: dict[str, Any] = {"type": "integer" if whole else "number"}
        for param, keyword in (("min", "minimum"), ("max", "maximum")):
            if param in field.params:
                out[keyword] = field.params[param]
        if whole:
            # Cognigy exports keep some whole-number settings as text ("genesysPriority": "1").
            digits = r"^\s*\d+\s*$" if field.params.get("min", -1) >= 0 else r"^\s*-?\d+\s*$"
            return {"anyOf": [out, {"type": "string", "pattern": digits}, {"const": ""}]}
        return out
    if t in _LIST_TYPES:
        return {"type": "array", "items": {"type": "string"}}
    if t == "json":
        return {"type": ["object", "array"]}
    if t == "say":
        return {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": list(OUTPUT_TYPES)},
                "text": {"type": "array", "items": {"type": "string"}},
                "data": {"anyOf": [{"type": "object"}, {"const": ""}]},
                "linear": {"type": "boolean"},
                "loop": {"type": "boolean"},
                "_cognigy": {"type": "object"},
                "_data": {},
            },
            "if": {"properties": {"type": {"const": "text"}}},
            "then": {"required": ["text"], "properties": {"text": {"minItems": 1}}},
        }
    if t == "condition":
        return {
            "type": "object",
            "properties": {
                "type": {"enum": ["condition", "rule"]},
                "condition": {"type": "string"},
                "rule": {
                    "type": "object",
                    "properties": {
                        "left": _SCALAR,
                        "operand": {"type": "string"},
                        "right": _SCALAR,
                    },
                },
            },
            "if": {"properties": {"type": {"const": "rule"}}, "required": ["type"]},
            "then": {"required": ["rule"]},
            "else": {"required": ["condition"]},
        }
    if t == "switchNode":
        return {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": _options(field)},
                "operator": {"type": "string"},
                "originalOperator": {"type": "string"},
            },
        }
    if t == "caseNode":
        # Cognigy stores a Case value as text (compared with the operand as text).
        return {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "string"}},
        }
    if t == "flowNode":
        return {
            "type": "object",
            "required": ["node"],
            "properties": {"flow": {"type": "string"}, "node": {"type": "string", "minLength": 1}},
        }
    if t == "keyValuePairs":
        return {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "value"],
                "additionalProperties": False,
                "properties": {"key": {"type": "string", "minLength": 1}, "value": _SCALAR},
            },
        }
    return {}  # other platform types: any value


def config_schema(descriptor: NodeDescriptor) -> dict[str, Any]:
    """The JSON Schema of a chart node's `config` for this descriptor."""
    props: dict[str, Any] = {}
    for f in descriptor.fields:
        s = {"title": _text(f.label)}
        if f.description is not None:
            s["description"] = _text(f.description)
        if not is_unsupported(f):  # accepted and ignored: any value
            s.update(value_schema(f))
        if f.default_value is not MISSING:
            s["default"] = thaw(f.default_value)
        props[f.key] = s
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"{SCHEMA_BASE}nodes/{descriptor.type}.json",
        "title": f"{_text(descriptor.default_label)} ({descriptor.type}) node config",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if descriptor.summary:
        schema["description"] = _text(descriptor.summary)
    required = [f.key for f in descriptor.fields if f.required]
    if required:
        schema["required"] = required
    return schema


def chart_schema() -> dict[str, Any]:
    """The schema of a flow chart: Cognigy CLI's chart.json (nodes with config, relations)."""
    types = sorted(NODE_TYPES)
    return {
        "$schema": DRAFT,
        "$id": f"{SCHEMA_BASE}chart.json",
        "title": "Flow chart (Cognigy chart.json form: nodes with their config, and relations)",
        "type": "object",
        "required": ["nodes", "relations"],
        "properties": {
            "_id": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "nodes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}},
            "relations": {"type": "array", "items": {"$ref": "#/$defs/relation"}},
        },
        "additionalProperties": False,
        "$defs": {
            "node": {
                "type": "object",
                "required": ["_id", "type"],
                "additionalProperties": False,
                "properties": {
                    "_id": {"type": "string", "minLength": 1},
                    "referenceId": {"type": "string"},
                    "type": {"enum": types},
                    "extension": {"type": "string"},
                    "label": {"type": "string"},
                    "comment": {"type": "string"},
                    "commentColor": {"type": "string"},
                    "analyticsLabel": {"type": ["string", "null"]},
                    "isEntryPoint": {"type": "boolean"},
                    "isDisabled": {"type": "boolean"},
                    "isCollapsed": {"type": "boolean"},
                    "preview": {},
                    "localeReference": {},
                    "config": {"type": "object"},
                },
                "allOf": [
                    {
                        "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                        "then": {"properties": {"config": {"$ref": f"nodes/{t}.json"}}},
                    }
                    for t in types
                ],
            },
            "relation": {
                "type": "object",
                "required": ["node", "children", "next"],
                "additionalProperties": False,
                "properties": {
                    "_id": {"type": "string"},
                    "node": {"type": "string", "minLength": 1},
                    "children": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                    "next": {"type": ["string", "null"]},
                },
            },
        },
    }


def _text(value: Any) -> str:
    """A label/description as plain text (localised values use their `default`)."""
    return value["default"] if hasattr(value, "get") and "default" in value else str(value)


def generated() -> dict[str, dict[str, Any]]:
    """Relative path under schemas/ -> schema, for every generated file."""
    out = {f"nodes/{t}.json": config_schema(n.descriptor) for t, n in sorted(NODE_TYPES.items())}
    out["chart.json"] = chart_schema()
    return out


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(root: Path) -> list[Path]:
    """Write every generated schema under `root` (the schemas package directory)."""
    written = []
    for rel, schema in generated().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    from om_bridge import schemas

    for p in write(Path(schemas.__file__).parent):
        print(p, file=sys.stderr)
