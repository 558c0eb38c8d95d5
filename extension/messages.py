"""Every user-facing message of the `extension` package, so wording stays consistent."""

from __future__ import annotations


def invalid_descriptor(node_type: str, problem: str) -> str:
    return f"invalid node descriptor {node_type!r}: {problem}"


def duplicate_field(key: str) -> str:
    return f"duplicate field key {key!r}"


def duplicate_section(key: str) -> str:
    return f"duplicate section key {key!r}"


def unknown_field_type(key: str, field_type: str) -> str:
    return f"field {key!r} has unknown type {field_type!r}"


def form_missing(kind: str, key: str) -> str:
    return f"form entry names missing {kind} {key!r}"


def bad_form_kind(key: str, kind: str) -> str:
    return f"form entry {key!r} has type {kind!r}, expected 'field' or 'section'"


def section_missing_field(section: str, key: str) -> str:
    return f"section {section!r} names missing field {key!r}"


def condition_missing_field(owner: str, key: str) -> str:
    return f"condition of {owner!r} names missing field {key!r}"


def preview_missing_field(key: str) -> str:
    return f"preview names missing field {key!r}"


def bad_condition(owner: str, problem: str) -> str:
    return f"condition of {owner!r} is malformed: {problem}"


def missing_property(what: str, name: str) -> str:
    return f"{what} is missing required property {name!r}"


def bad_value(what: str, name: str, allowed: object) -> str:
    return f"{what} property {name!r} must be one of {allowed}"


def unknown_node_type(node_type: str) -> str:
    return f"unknown node type {node_type!r}"


def built(path: str) -> str:
    return f"wrote {path}"


def remote_bad_request(problem: str) -> str:
    return f"bad node execution request: {problem}"


def remote_not_exported(node_type: str) -> str:
    return f"node type {node_type!r} is not part of the extension"


def script_syntax(expression: str, position: int, problem: str) -> str:
    return f"CognigyScript error in {expression!r} at position {position}: {problem}"


def script_unknown_root(expression: str, name: str) -> str:
    return (
        f"CognigyScript error in {expression!r}: unknown name {name!r} "
        "(use input, context, profile or ci, cc, cp)"
    )
