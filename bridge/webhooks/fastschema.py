"""A JSON Schema subset compiled to plain Python predicates, for validating hot-path bodies.

jsonschema's `is_valid` walks the schema through generic keyword dispatch on every call (~0.3 ms
for a webhook body, more than the rest of the route). This compiles the keywords our payload
schemas use (type, required, properties, additionalProperties: true, items, minLength,
maxLength, enum, const, allOf, if/then/else, annotations) into closures once. A schema using any
other keyword does not compile (None), and callers fall back to jsonschema; jsonschema also still
produces the error message for an invalid body. Tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "number": _is_number,
    "integer": lambda v: _is_number(v) and float(v).is_integer(),
}


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0, containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def compile_schema(schema: Any) -> Check | None:
    """A predicate equivalent to the schema's validity, or None if it uses other keywords."""
    if schema is True or schema is False:
        return (lambda v: True) if schema else (lambda v: False)
    if not isinstance(schema, dict):
        return None
    checks: list[Check] = []
    for key, value in schema.items():
        if key in ANNOTATIONS or key in ("then", "else"):
            continue  # "then"/"else" are compiled with their "if" (and ignored without one)
        check = _keyword(schema, key, value)
        if check is None:
            return None
        checks.append(check)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _keyword(schema: dict, key: str, value: Any) -> Check | None:
    if key == "type":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(n in TYPES for n in names):
            return None
        tests = [TYPES[n] for n in names]
        return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))
    if key == "required":
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "properties":
        subs = {name: compile_schema(sub) for name, sub in value.items()}
        pairs = tuple((name, c) for name, c in subs.items() if c is not None)
        if len(pairs) != len(subs):
            return None
        return lambda v: not isinstance(v, dict) or all(
            name not in v or c(v[name]) for name, c in pairs
        )
    if key == "additionalProperties":
        return (lambda v: True) if value is True else None
    if key == "items":
        item = compile_schema(value) if isinstance(value, (dict, bool)) else None
        if item is None:
            return None
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if key in ("minLength", "maxLength"):
        bound = int(value)
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= bound
        return lambda v: not isinstance(v, str) or len(v) <= bound
    if key == "enum":
        options = list(value)
        return lambda v: any(_same(v, o) for o in options)
    if key == "const":
        return lambda v: _same(v, value)
    if key == "allOf":
        compiled = [compile_schema(sub) for sub in value]
        checks = [c for c in compiled if c is not None]
        if len(checks) != len(compiled):
            return None
        return lambda v: all(c(v) for c in checks)
    if key == "if":
        cond, then, other = (
            compile_schema(value),
            compile_schema(schema.get("then", True)),
            compile_schema(schema.get("else", True)),
        )
        if cond is None or then is None or other is None:
            return None
        return lambda v: then(v) if cond(v) else other(v)
    return None
