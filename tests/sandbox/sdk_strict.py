"""A strict SDK client for the conformance tests: before the official SDK deserializes a response
(which silently drops unknown keys and turns bad enum values into "outdated_sdk_version"), the raw
JSON is checked against the SDK model of the route — every key must be a field of the model, every
value of the field's type, every enum value one the model allows (case-insensitively, as the SDK
compares). A deviation fails the call with an AssertionError naming the JSON path.

Webhook bodies and notification frames are checked the same way against the models named in
`sdk_wire_models.json` (shared with the Node.js check, `tests/js/sdk_conformance.js`)."""

from __future__ import annotations

import ast
import inspect
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from dateutil.parser import isoparse
from PureCloudPlatformClientV2 import models
from PureCloudPlatformClientV2.api_client import ApiClient

WIRE_MODELS = json.loads((Path(__file__).parent / "sdk_wire_models.json").read_text())
# Fields Genesys documents that the generated SDK models lack, each with its source in the JSON.
KNOWN_EXTRAS = {(e["model"], e["field"]) for e in WIRE_MODELS["knownExtras"]}
# The notification frame envelope (docs/reference/genesys-completion-detection.md §A): the SDKs
# model only the event bodies.
FRAME_KEYS = {"topicName", "version", "eventBody", "metadata"}
_TOPIC_PATTERNS = [
    (re.compile("^" + re.escape(p).replace(re.escape("{id}"), "[^.]+") + "$"), model)
    for p, model in WIRE_MODELS["topics"].items()
]
_PRIMITIVES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


@cache
def _allowed(cls: type, attr: str) -> tuple[str, ...] | None:
    """The `allowed_values` list of a model's enum setter, if it has one."""
    prop = getattr(cls, attr, None)
    if not isinstance(prop, property) or prop.fset is None:
        return None
    found = re.search(r"allowed_values = (\[.*?\])", inspect.getsource(prop.fset), re.S)
    return tuple(ast.literal_eval(found.group(1))) if found else None


def violations(data: Any, klass: str, path: str = "$") -> list[str]:
    """Every way `data` deviates from the SDK type `klass` (a model name or `list[...]` etc.)."""
    if data is None:
        return []
    if klass.startswith("list["):
        inner = klass[5:-1]
        if not isinstance(data, list):
            return [f"{path}: expected a list"]
        return [v for i, item in enumerate(data) for v in violations(item, inner, f"{path}[{i}]")]
    if klass.startswith("dict("):
        inner = re.match(r"dict\(([^,]*), (.*)\)", klass).group(2)
        if not isinstance(data, dict):
            return [f"{path}: expected a map"]
        return [v for k, item in data.items() for v in violations(item, inner, f"{path}.{k}")]
    if klass in _PRIMITIVES:
        ok = isinstance(data, _PRIMITIVES[klass]) and (
            klass == "bool" or not isinstance(data, bool)
        )
        return [] if ok else [f"{path}: expected {klass}, got {data!r}"]
    if klass in ("datetime", "date"):
        try:
            isoparse(data)
        except (TypeError, ValueError):
            return [f"{path}: not an ISO-8601 {klass}: {data!r}"]
        return []
    if klass == "object":
        return []
    cls = getattr(models, klass)
    if not isinstance(data, dict):
        return [f"{path}: expected a {klass} object"]
    inst = cls()
    fields = {inst.attribute_map[a]: (a, t) for a, t in inst.swagger_types.items()}
    out: list[str] = []
    for key, value in data.items():
        if key not in fields:
            if (klass, key) not in KNOWN_EXTRAS:
                out.append(f"{path}.{key}: not a field of {klass}")
            continue
        attr, typ = fields[key]
        out += violations(value, typ, f"{path}.{key}")
        allowed = _allowed(cls, attr) if typ == "str" and isinstance(value, str) else None
        if allowed and value.lower() not in {a.lower() for a in allowed}:
            out.append(f"{path}.{key}: {value!r} is not one of {list(allowed)}")
    return out


class StrictApiClient(ApiClient):
    """`ApiClient` that refuses any response body deviating from the route's SDK model."""

    def deserialize(self, response: Any, response_type: Any) -> Any:
        if isinstance(response_type, str) and response_type != "file" and response.data:
            problems = violations(json.loads(response.data), response_type)
            assert not problems, f"{response_type}: " + "; ".join(problems)
        return super().deserialize(response, response_type)


def topic_model(topic: str) -> str | None:
    """The SDK model of a notification topic's event body (None for an unlisted topic)."""
    return next((model for rx, model in _TOPIC_PATTERNS if rx.match(topic)), None)


def event_violations(topic: str, body: Any) -> list[str]:
    """How an event body published on `topic` deviates from the topic's SDK model."""
    model = topic_model(topic)
    if model is None:
        return [f"{topic}: no SDK model known for this topic"]
    return [f"{topic}: {v}" for v in violations(body, model)]


def frame_violations(frame: dict) -> list[str]:
    """How a WebSocket event frame deviates: its envelope keys, then its body's topic model."""
    out = [f"$.{k}: not a field of a notification frame" for k in frame if k not in FRAME_KEYS]
    meta = frame.get("metadata") or {}
    out += [
        f"$.metadata.{k}: not a field of the frame metadata" for k in meta if k != "CorrelationId"
    ]
    if frame.get("topicName") == "channel.metadata":
        return out
    return out + event_violations(str(frame.get("topicName")), frame.get("eventBody"))


def webhook_violations(body: Any) -> list[str]:
    """How an outbound webhook body deviates from the SDK's `ConversationNormalizedMessage`,
    with `conversationId` allowed (Genesys' outbound schema has it:
    docs/reference/genesys-open-messaging.md §5.2)."""
    if isinstance(body, dict) and isinstance(body.get("conversationId"), str):
        body = {k: v for k, v in body.items() if k != "conversationId"}
    return violations(body, WIRE_MODELS["webhook"])
