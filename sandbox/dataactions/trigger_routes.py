"""Process Automation trigger routes (`/api/v2/processautomation/triggers`), as the SDK's
`ProcessAutomationApi` calls them: CRUD with versions, the trigger topic list and the test
endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import error_body

from .triggers import TRIGGER_TOPICS, TriggerError, criterion_matches, extract, matches, validate

bp = Blueprint("sandbox_triggers", __name__)
BASE = "/api/v2/processautomation/triggers"


def caller() -> Any:
    return current_app.extensions["sandbox.data_action"]


def _body() -> Any:
    return request.get_json(silent=True)


def _not_found(tid: str) -> Response:
    return error_body(404, "not.found", f"Trigger {tid} was not found.", entityId=tid)


@bp.get(BASE)
@require_auth("processautomation:trigger:view")
def list_triggers() -> Any:
    names = request.args.get("topicName")
    enabled = request.args.get("enabled")
    if enabled is not None and enabled.lower() not in ("true", "false"):
        return error_body(400, "bad.request", "enabled must be true or false.")
    items = caller().triggers.list(
        {n.strip() for n in names.split(",")} if names else None,
        None if enabled is None else enabled.lower() == "true",
    )
    return jsonify({"entities": items, "selfUri": BASE})


@bp.post(BASE)
@require_auth("processautomation:trigger:add")
def create_trigger() -> Any:
    try:
        trigger = validate(_body(), {caller().settings.workflow_id})
    except TriggerError as exc:
        return error_body(400, "bad.request", str(exc))
    return jsonify(caller().triggers.create(trigger))


@bp.get(f"{BASE}/topics")
@require_auth("processautomation:trigger:view")
def trigger_topics() -> Any:
    return jsonify({"entities": list(TRIGGER_TOPICS), "selfUri": f"{BASE}/topics"})


@bp.get(f"{BASE}/<tid>")
@require_auth("processautomation:trigger:view")
def get_trigger(tid: str) -> Any:
    item = caller().triggers.get(tid)
    return jsonify(item) if item else _not_found(tid)


@bp.put(f"{BASE}/<tid>")
@require_auth("processautomation:trigger:edit")
def update_trigger(tid: str) -> Any:
    body = _body()
    try:
        trigger = validate(body, {caller().settings.workflow_id}, update=True)
        return jsonify(caller().triggers.update(tid, trigger, body.get("version")))
    except TriggerError as exc:
        return error_body(400, "bad.request", str(exc))
    except KeyError:
        return _not_found(tid)
    except ValueError as exc:
        return error_body(409, "conflict", f"version must be the current version {exc.args[0]}.")


@bp.delete(f"{BASE}/<tid>")
@require_auth("processautomation:trigger:delete")
def delete_trigger(tid: str) -> Any:
    return Response(status=204) if caller().triggers.delete(tid) else _not_found(tid)


@bp.post(f"{BASE}/<tid>/test")
@require_auth("processautomation:trigger:view")
def test_trigger(tid: str) -> Any:
    trigger = caller().triggers.get(tid)
    if trigger is None:
        return _not_found(tid)
    event = _body()
    if isinstance(event, str):
        # The SDK types the test body as a string holding the event JSON.
        try:
            event = json.loads(event)
        except ValueError:
            event = None
    if not isinstance(event, dict):
        return error_body(400, "bad.request", "The body must be a sample event body (JSON object).")
    results = [
        {
            "jsonPath": c["jsonPath"],
            "operator": c["operator"],
            **({"value": c["value"]} if "value" in c else {"values": c["values"]}),
            "generatedJsonPathCondition": _condition(c),
            "match": criterion_matches(event, c),
            "jsonPathExtraction": _extraction(event, c["jsonPath"]),
        }
        for c in trigger["matchCriteria"]
    ]
    target_ok = trigger["target"]["id"] == caller().settings.workflow_id
    return jsonify(
        {
            "schemaValidation": {
                "name": "Schema validation",
                "step": 1,
                "matches": True,
                "details": [],
            },
            "targetValidation": {
                "name": "Target validation",
                "step": 2,
                "matches": target_ok,
                "details": [],
            },
            "jsonPathValidation": {
                "name": "JSON path validation",
                "step": 3,
                "matches": matches(trigger, event),
                "details": results,
            },
            "triggerMatches": target_ok and matches(trigger, event),
        }
    )


def _extraction(event: dict, path: str) -> list[dict]:
    value = extract(event, path)
    return [] if value is extract({}, "x") else [{"value": value, "path": path}]


def _condition(c: dict) -> str:
    """A readable JSONPath filter for one criterion, as the test endpoint reports it."""
    want = c.get("value", c.get("values"))
    path = c["jsonPath"] if c["jsonPath"].startswith("$") else f"$.{c['jsonPath']}"
    return f"{path} {c['operator']} {want!r}"
