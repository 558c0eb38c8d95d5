"""Validation of configuration data against schemas/config.json, with errors naming key paths."""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from om_bridge.bridge.config import messages

_REQUIRED = re.compile(r"^(.+) is a required property$")
_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "object": "a table",
    "array": "an array",
    "integer": "an integer",
    "number": "a number",
}


@functools.lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    """The validator of schemas/config.json (loaded once, from the installed package)."""
    schema = json.loads(
        files("om_bridge.schemas").joinpath("config.json").read_text(encoding="utf-8")
    )
    return Draft202012Validator(schema)


def key_path(parts: Iterable[Any]) -> str:
    """`["providers", 0, "client_secret"]` → `providers[0].client_secret` ("(root)" if empty)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _describe(error: ValidationError) -> tuple[list[Any], str]:
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("x-error")
    v = error.validator
    # Errors from iter_errors carry the keyword's value and the instance (Unset only by hand).
    value: Any = error.validator_value
    instance: Any = error.instance
    if v == "required":
        # jsonschema reports each missing property as its own error; the name is in the message.
        match = _REQUIRED.match(error.message)
        missing = [ast.literal_eval(match.group(1))] if match else []
        return path + missing, messages.REQUIRED
    if v == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)
        return path + extra[:1], messages.UNKNOWN_KEY
    if custom:
        return path, custom
    if v == "type":
        return path, messages.MUST_BE_TYPE.format(type=_TYPE_NAMES.get(value, value))
    if v == "enum":
        return path, messages.MUST_BE_ONE_OF.format(choices=", ".join(json.dumps(c) for c in value))
    if v == "const":
        return path, messages.MUST_BE_CONST.format(value=json.dumps(value))
    if v == "minLength" and value == 1:
        return path, messages.MUST_NOT_BE_EMPTY
    if v == "pattern":
        return path, messages.BAD_PATTERN
    return path, error.message


def schema_errors(data: Any) -> list[str]:
    """Every schema violation of `data` as "key.path: problem", sorted by key path."""
    found = []
    for error in validator().iter_errors(data):
        path, text = _describe(error)
        found.append((path, f"{key_path(path)}: {text}"))
        if error.validator == "additionalProperties":
            # One line per unexpected key, not only the first.
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(k for k in error.instance if k not in allowed)[1:]:
                p = [*error.absolute_path, extra]
                found.append((p, f"{key_path(p)}: {messages.UNKNOWN_KEY}"))
    found.sort(key=lambda item: [(0, p) if isinstance(p, int) else (1, str(p)) for p in item[0]])
    return [text for _, text in found]
