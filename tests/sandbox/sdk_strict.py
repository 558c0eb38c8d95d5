"""A strict SDK client for the conformance tests: before the official SDK deserializes a response
(which silently drops unknown keys and turns bad enum values into "outdated_sdk_version"), the raw
JSON is checked against the SDK model of the route — every key must be a field of the model, every
value of the field's type, every enum value one the model allows (case-insensitively, as the SDK
compares). A deviation fails the call with an AssertionError naming the JSON path."""

from __future__ import annotations

import ast
import inspect
import json
import re
from functools import cache
from typing import Any

from dateutil.parser import isoparse
from PureCloudPlatformClientV2 import models
from PureCloudPlatformClientV2.api_client import ApiClient

# Fields Genesys sends that the generated SDK models lack (docs/reference/genesys-open-messaging.md
# §3.1: custom attributes ride in `channel.metadata`, which the SDK models as `subType` only).
KNOWN_EXTRAS = {("ConversationChannelMetadata", "customAttributes")}
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
