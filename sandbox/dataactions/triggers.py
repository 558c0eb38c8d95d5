"""Process Automation triggers (docs/reference/genesys-completion-detection.md §C.1-§C.3): the trigger
store, request validation, and matching of a detail event against a trigger's criteria.

A trigger whose target is the sandbox's workflow (`[data_action].workflow_id`) runs it: the
workflow calls the configured Web Services Data Action. Match criteria use Goessner JSON paths
into the event body; only the simple forms Genesys documents are supported (`field`, `$.a.b`,
`a[0]`).
"""

from __future__ import annotations

import builtins
import itertools
import re
import threading
import uuid
from typing import Any

OPERATORS = (
    "GreaterThanOrEqual",
    "LessThanOrEqual",
    "Equal",
    "NotEqual",
    "LessThan",
    "GreaterThan",
    "NotIn",
    "In",
    "Contains",
    "All",
    "Exists",
    "Size",
)
TRIGGER_TOPICS = tuple(
    f"v2.detail.events.conversation.{{id}}.{s}"
    for s in (
        "acd.end",
        "acd.start",
        "acw",
        "attributes",
        "customer.end",
        "customer.start",
        "outbound",
        "user.end",
        "user.start",
        "voicemail.end",
        "voicemail.start",
        "wrapup",
    )
)
_MISSING = object()
_FIELDS = {
    "topicName",
    "name",
    "target",
    "matchCriteria",
    "enabled",
    "eventTTLSeconds",
    "delayBySeconds",
    "description",
    "version",
}


class TriggerError(ValueError):
    """An invalid trigger request; the message names the field."""


def validate(body: Any, workflows: set[str], update: bool = False) -> dict:
    """A normalized trigger from a `CreateTriggerRequest` / `UpdateTriggerRequest` body."""
    if not isinstance(body, dict):
        raise TriggerError("The body must be a JSON object.")
    for key in body:
        if key not in _FIELDS or (key == "version" and not update):
            raise TriggerError(f"Unknown field {key}.")
    topic = body.get("topicName")
    if topic not in TRIGGER_TOPICS:
        raise TriggerError(
            f"topicName must be one of the trigger topics (see "
            f"/api/v2/processautomation/triggers/topics), got {topic!r}."
        )
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TriggerError("name is required.")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 512):
        raise TriggerError("description must be a string of at most 512 characters.")
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise TriggerError("enabled is required and must be true or false.")
    target = body.get("target")
    if (
        not isinstance(target, dict)
        or target.get("type") != "Workflow"
        or not isinstance(target.get("id"), str)
    ):
        raise TriggerError('target must be {"type": "Workflow", "id": <workflow id>}.')
    if target["id"] not in workflows:
        raise TriggerError(f"target.id {target['id']} is not a published workflow.")
    settings = target.get("workflowTargetSettings") or {"dataFormat": "TopLevelPrimitives"}
    if settings.get("dataFormat") not in ("Json", "TopLevelPrimitives"):
        raise TriggerError(
            "target.workflowTargetSettings.dataFormat must be Json or TopLevelPrimitives."
        )
    ttl, delay = body.get("eventTTLSeconds"), body.get("delayBySeconds")
    if ttl is not None and delay is not None:
        raise TriggerError("Only one of eventTTLSeconds and delayBySeconds may be set.")
    if ttl is not None and (not _is_int(ttl) or ttl < 10):
        raise TriggerError("eventTTLSeconds must be an integer of at least 10.")
    if delay is not None and (not _is_int(delay) or not 60 <= delay <= 900):
        raise TriggerError("delayBySeconds must be an integer between 60 and 900.")
    criteria = body.get("matchCriteria") or []
    if not isinstance(criteria, list):
        raise TriggerError("matchCriteria must be a list.")
    for i, c in enumerate(criteria):
        if not isinstance(c, dict) or not isinstance(c.get("jsonPath"), str) or not c["jsonPath"]:
            raise TriggerError(f"matchCriteria[{i}].jsonPath is required.")
        if c.get("operator") not in OPERATORS:
            raise TriggerError(
                f"matchCriteria[{i}].operator must be one of {', '.join(OPERATORS)}."
            )
        if ("value" in c) == ("values" in c):
            raise TriggerError(f"matchCriteria[{i}] needs exactly one of value or values.")
        if "values" in c and not isinstance(c["values"], list):
            raise TriggerError(f"matchCriteria[{i}].values must be a list.")
    out = {
        "name": name,
        "topicName": topic,
        "target": {**target, "workflowTargetSettings": settings},
        "enabled": enabled,
        "matchCriteria": criteria,
    }
    for key, value in (
        ("eventTTLSeconds", ttl),
        ("delayBySeconds", delay),
        ("description", description),
    ):
        if value is not None:
            out[key] = value
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def extract(body: Any, path: str) -> Any:
    """The value at a simple JSON path (`a.b`, `$.a.b`, `a[0]`), or `_MISSING`."""
    path = path[2:] if path.startswith("$.") else path.lstrip("$")
    current = body
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(current, list) or index >= len(current):
                return _MISSING
            current = current[index]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def criterion_matches(body: dict, c: dict) -> bool:
    """Evaluate one `MatchCriteria` against an event body."""
    found = extract(body, c["jsonPath"])
    op = c["operator"]
    want: Any = c.get("value", c.get("values"))  # any JSON value: a wrong type is a non-match
    if op == "Exists":
        return (found is not _MISSING) == bool(want)
    if found is _MISSING:
        return op == "NotEqual" or op == "NotIn"
    try:
        if op == "Equal":
            return found == want
        if op == "NotEqual":
            return found != want
        if op == "In":
            return found in want
        if op == "NotIn":
            return found not in want
        if op == "Contains":
            return want in found if isinstance(found, (list, str)) else False
        if op == "All":
            return isinstance(found, list) and all(v in found for v in want)
        if op == "Size":
            return isinstance(found, (list, str, dict)) and len(found) == want
        return {
            "GreaterThan": found > want,
            "GreaterThanOrEqual": found >= want,
            "LessThan": found < want,
            "LessThanOrEqual": found <= want,
        }[op]
    except TypeError:
        return False


def matches(trigger: dict, body: dict) -> bool:
    """True when every criterion holds (no criteria: every event)."""
    return all(criterion_matches(body, c) for c in trigger.get("matchCriteria", []))


def workflow_input(trigger: dict, body: dict) -> dict:
    """What the workflow receives: top-level primitives only, or the whole event as `jsonData`."""
    if trigger["target"]["workflowTargetSettings"]["dataFormat"] == "Json":
        return {"jsonData": body}
    return {k: v for k, v in body.items() if isinstance(v, (str, int, float, bool))}


class TriggerStore:
    """Thread-safe trigger store with Genesys-style versions."""

    def __init__(self) -> None:
        self._items: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._order = itertools.count()

    def create(self, trigger: dict) -> dict:
        with self._lock:
            tid = str(uuid.uuid4())
            item = {
                "id": tid,
                **trigger,
                "version": 1,
                "selfUri": f"/api/v2/processautomation/triggers/{tid}",
                "_n": next(self._order),
            }
            self._items[tid] = item
            return public(item)

    def get(self, tid: str) -> dict | None:
        with self._lock:
            item = self._items.get(tid)
            return public(item) if item else None

    def list(self, topic_names: set[str] | None = None, enabled: bool | None = None) -> list[dict]:
        with self._lock:
            items = sorted(self._items.values(), key=lambda t: t["_n"])
        return [
            public(t)
            for t in items
            if (topic_names is None or t["topicName"] in topic_names)
            and (enabled is None or t["enabled"] == enabled)
        ]

    def update(self, tid: str, trigger: dict, version: Any) -> dict:
        """Replace a trigger; raises KeyError (unknown), ValueError (version), TriggerError."""
        with self._lock:
            item = self._items.get(tid)
            if item is None:
                raise KeyError(tid)
            if version != item["version"]:
                raise ValueError(item["version"])
            if trigger["topicName"] != item["topicName"]:
                raise TriggerError("topicName cannot be changed; create a new trigger instead.")
            item.update(trigger, version=item["version"] + 1)
            return public(item)

    def delete(self, tid: str) -> bool:
        with self._lock:
            return self._items.pop(tid, None) is not None

    def firing(self, pattern: str) -> builtins.list[dict]:
        """Enabled triggers on a topic pattern."""
        with self._lock:
            return [
                public(t)
                for t in self._items.values()
                if t["enabled"] and t["topicName"] == pattern
            ]


def public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}
