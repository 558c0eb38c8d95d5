"""The project's JSON Schemas (draft 2020-12), shipped as package data, and a loader for them.

Every `*.json` file under this package is registered in one `referencing` registry, under its `$id`
and under `SCHEMA_BASE + <relative path>`, so a schema can `$ref` any other by relative path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# Schema ids are names, never fetched; every file also answers to SCHEMA_BASE + its relative path.
SCHEMA_BASE = "https://github.com/om-bridge/om-bridge/schemas/"


def _walk(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir() and not child.name.startswith(("_", ".")):
            yield from _walk(child, f"{prefix}{child.name}/")
        elif child.name.endswith(".json"):
            yield f"{prefix}{child.name}", child


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, Any]]:
    return {
        rel: json.loads(f.read_text(encoding="utf-8"))
        for rel, f in _walk(resources.files(__name__))
    }


def names() -> list[str]:
    """Relative paths of every schema file, e.g. `chart.json`, `nodes/say.json`."""
    return sorted(_all())


def _key(name: str) -> str:
    return name if name.endswith(".json") else f"{name}.json"


def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` ("chart", "nodes/say" or "nodes/say.json"); a fresh copy each call."""
    try:
        return copy.deepcopy(_all()[_key(name)])
    except KeyError:
        raise KeyError(f"no schema {name!r} (known: {', '.join(names())})") from None


@lru_cache(maxsize=1)
def registry() -> Registry:
    """A registry holding every schema file, for `$ref` resolution between them."""
    reg: Registry = Registry()
    for rel, contents in _all().items():
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        uris = {SCHEMA_BASE + rel}
        if isinstance(contents.get("$id"), str):
            uris.add(contents["$id"])
        for uri in uris:
            reg = reg.with_resource(uri, resource)
    return reg.crawl()


@cache
def validator(name: str) -> Draft202012Validator:
    """A cached validator for schema `name`, resolving `$ref`s against every schema file."""
    schema = load_schema(name)
    schema.setdefault("$id", SCHEMA_BASE + _key(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry())
