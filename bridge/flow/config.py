"""Evaluates CognigyScript in a node's config before its function runs, as Cognigy does, driven by
the descriptor's field types (texts, text lists, Say outputs with their quick replies and buttons,
JSON and case values; never conditions)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from om_bridge.extension import script
from om_bridge.extension.descriptor import NodeDescriptor

_TEXT = {"cognigyText"}
_TEXT_LISTS = {"textArray", "cognigyTextArray", "chipInput"}
_DEEP = {"json"}


def _deep(value: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return script.render(value, scope)
    if isinstance(value, dict):
        return {k: _deep(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, scope) for v in value]
    return value


def evaluate_config(
    descriptor: NodeDescriptor, config: Mapping[str, Any], scope: Mapping[str, Any]
) -> dict[str, Any]:
    """The descriptor's defaults overlaid with `config`, CognigyScript rendered per field type."""
    out = {**descriptor.defaults(), **copy.deepcopy(dict(config))}
    for f in descriptor.fields:
        value = out.get(f.key)
        if value is None:
            continue
        if f.type in _TEXT and isinstance(value, str):
            out[f.key] = script.render(value, scope)
        elif f.type in _TEXT_LISTS and isinstance(value, list):
            out[f.key] = [script.render(v, scope) if isinstance(v, str) else v for v in value]
        elif f.type in _DEEP:
            out[f.key] = _deep(value, scope)
        elif f.type == "say" and isinstance(value, dict):
            value["text"] = [_deep(t, scope) for t in value.get("text") or []]
            value["data"] = _deep(value.get("data"), scope)
            if isinstance(value.get("_cognigy"), dict):  # quick replies, buttons
                value["_cognigy"] = _deep(value["_cognigy"], scope)
        elif f.type == "caseNode" and isinstance(value, dict):
            value["value"] = _deep(value.get("value"), scope)
        elif f.type == "keyValuePairs" and isinstance(value, list):
            out[f.key] = [
                {**p, "value": _deep(p.get("value"), scope)} if isinstance(p, dict) else p
                for p in value
            ]
    return out
