"""The compiled fast check agrees with jsonschema on the webhook schema (and every other schema
it compiles), for recorded payloads and mutations of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from om_bridge.bridge.webhooks.fastschema import compile_schema
from om_bridge.schemas import load_schema, names, validator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhook"
ODD_VALUES = [None, True, False, 0, 1, 1.0, 2.5, "", "x", "Text", "Event", [], [{}], {}, {"id": ""}]


def recorded() -> list[dict]:
    subs = {
        "{integration_id}": "integ-1",
        "{customer_id}": "cust-1",
        "{conversation_id}": "conv-1",
        "{message_id}": "m-1",
    }
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        text = path.read_text("utf-8")
        for old, new in subs.items():
            text = text.replace(old, new)
        out.append(json.loads(text))
    return out


def mutations(doc: dict) -> list:
    """The document, each top-level and channel field removed or replaced by odd values."""
    found: list = [doc, {}, [], "x", None]
    for path in (
        [(k,) for k in doc]
        + [("channel", k) for k in doc.get("channel") or {}]
        + [("channel", "to", "id"), ("content",), ("events",), ("type",), ("status",)]
    ):
        for value in [...] + ODD_VALUES:
            mutated = copy.deepcopy(doc)
            parent = mutated
            for step in path[:-1]:
                parent = parent.get(step) if isinstance(parent, dict) else None
            if not isinstance(parent, dict):
                continue
            if value is ...:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = copy.deepcopy(value)
            found.append(mutated)
    return found


def test_the_webhook_schema_compiles():
    assert compile_schema(load_schema("genesys-webhook")) is not None


@pytest.mark.parametrize("doc", recorded(), ids=lambda d: str(d.get("type")))
def test_agrees_with_jsonschema_on_the_webhook_schema(doc):
    fast = compile_schema(load_schema("genesys-webhook"))
    checker = validator("genesys-webhook")
    assert checker.is_valid(doc) and fast(doc)
    for candidate in mutations(doc):
        assert fast(candidate) == checker.is_valid(candidate), candidate


def test_agrees_on_every_schema_it_compiles():
    docs = (
        [m for doc in recorded() for m in mutations(doc)]
        + ODD_VALUES
        + [{"userId": "u", "sessionId": "s", "text": "hi"}, {"userId": "u"}, {"sessionId": 1}]
    )
    compiled = 0
    for name in names():
        fast = compile_schema(load_schema(name))
        if fast is None:
            continue
        compiled += 1
        checker = validator(name)
        for doc in docs:
            assert fast(doc) == checker.is_valid(doc), (name, doc)
    assert compiled >= 2


def test_unknown_keywords_do_not_compile():
    assert compile_schema({"type": "string", "pattern": "^a"}) is None
    assert compile_schema({"properties": {"a": {"$ref": "#/x"}}}) is None
    assert compile_schema({"additionalProperties": False}) is None


def test_json_equality_in_enum_and_const():
    assert compile_schema({"enum": [1, "a"]})(1.0)
    assert not compile_schema({"enum": [1, "a"]})(True)
    assert not compile_schema({"const": False})(0)
    assert compile_schema({"const": {"a": [1]}})({"a": [1.0]})
