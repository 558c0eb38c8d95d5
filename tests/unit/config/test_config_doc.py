"""docs/configuration.md documents exactly the keys of schemas/config.json, every OM_BRIDGE_*
variable the code reads and every feature flag."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from om_bridge.bridge.config import ENV_OVERRIDES
from om_bridge.bridge.flags import VARIABLES

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "configuration.md"
SCHEMA = ROOT / "schemas" / "config.json"
# A key row of the doc's tables: | `bridge.public_url` | …
KEY_ROW = re.compile(r"^\| `([a-z_]+(?:\[\])?(?:\.[A-Za-z_]+(?:\[\])?)*)` \|", re.M)


def schema_keys(node: dict, prefix: str = "") -> Iterator[str]:
    """Every key path of the schema: `bridge.store`, `providers[].data_action_auth.type`, …"""
    properties: dict = dict(node.get("properties", {}))
    for branch in node.get("allOf", []):
        for name, sub in branch.get("then", {}).get("properties", {}).items():
            if isinstance(sub, dict):  # `"type": true` only re-admits a key declared above
                properties.setdefault(name, sub)
    for name, sub in properties.items():
        path = f"{prefix}{name}"
        if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            yield path
            yield from schema_keys(sub["items"], path + "[].")
        else:
            yield path
            yield from schema_keys(sub, path + ".")


def documented_keys() -> set[str]:
    return set(KEY_ROW.findall(DOC.read_text(encoding="utf-8")))


def test_every_schema_key_is_documented_and_no_other():
    keys = set(schema_keys(json.loads(SCHEMA.read_text(encoding="utf-8"))))
    assert "providers[].data_action_auth.password" in keys  # the walk reaches if/then branches
    documented = documented_keys()
    assert sorted(keys - documented) == [], "keys of schemas/config.json missing from the doc"
    assert sorted(documented - keys) == [], "keys in the doc that schemas/config.json lacks"


def test_every_om_bridge_variable_the_code_reads_is_documented():
    doc = DOC.read_text(encoding="utf-8")
    found: set[str] = set()
    for folder in ("bridge", "sandbox", "extension"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(re.findall(r"\bOM_BRIDGE_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    found.discard("OM_BRIDGE_")  # a prefix in a docstring, not a variable
    assert {"OM_BRIDGE_CONFIG", *ENV_OVERRIDES} <= found
    missing = sorted(v for v in found if f"`{v}`" not in doc)
    assert missing == []


def test_every_feature_flag_is_documented():
    doc = DOC.read_text(encoding="utf-8")
    assert sorted(v for v in VARIABLES.values() if f"| `{v}` |" not in doc) == []
