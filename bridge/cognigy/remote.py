"""The bridge side of the Cognigy extension: its node functions POST here and the same Python node
function runs against the posted input/context/profile; the answer lists the effects for the JS code
to apply with Cognigy's `api` (say, addToContext, setNextNode, stopExecution)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from om_bridge import schemas
from om_bridge.bridge import jsonbody
from om_bridge.bridge.flow.api import RuntimeApi
from om_bridge.extension import messages
from om_bridge.extension.api import ChildConfig, Cognigy, HandoverRequest, NodeError, NodeParams
from om_bridge.extension.protocol import EXECUTE_PATH, RELAY_PATH
from om_bridge.extension.registry import NODE_TYPES


class RemoteError(ValueError):
    """A request the bridge refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _recording_api(scope: dict[str, Any]) -> Any:
    class RemoteApi(RuntimeApi):
        """Records context changes as operations, since Cognigy owns the real context."""

        def __init__(self) -> None:
            super().__init__(scope, {})
            self.context_ops: list[dict[str, Any]] = []
            self.profile_ops: list[dict[str, Any]] = []

        def add_to_context(self, key: str, value: Any, mode: str = "simple") -> None:
            super().add_to_context(key, value, mode)
            self.context_ops.append({"key": key, "value": value, "mode": mode})

        def update_profile(self, key: str, value: Any) -> None:
            super().update_profile(key, value)
            self.profile_ops.append({"key": key, "value": value})

    return RemoteApi()


def _require(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind):
        raise RemoteError(messages.remote_bad_request(f"{name!r} must be a {kind.__name__}"))
    return value


# Field types whose empty value Cognigy sends as "" or null (an untouched number box, an empty
# JSON editor): such a value means "not set", so the descriptor's default applies.
_EMPTY_MEANS_UNSET = frozenset({"number", "slider", "json", "keyValuePairs"})


def _without_empty(descriptor: Any, config: dict[str, Any]) -> dict[str, Any]:
    types = {f.key: f.type for f in descriptor.fields}
    return {
        k: v
        for k, v in config.items()
        if not (types.get(k) in _EMPTY_MEANS_UNSET and (v is None or v == "" or v == "{}"))
    }


def execute(payload: Any) -> dict[str, Any]:
    """Run one node for the extension: `{type, nodeId, config, childConfigs, input, context,
    profile}` -> `{outputs, context, profile, next, wait, stop, handover}`. Raises RemoteError for a bad
    request."""
    if not isinstance(payload, dict):
        raise RemoteError(messages.remote_bad_request("body must be a JSON object"))
    node_type = _require(payload, "type", str)
    registered = NODE_TYPES.get(node_type)
    if registered is None or not registered.in_extension:
        raise RemoteError(messages.remote_not_exported(node_type), 404)
    node_id = _require(payload, "nodeId", str)
    config = _without_empty(registered.descriptor, _require(payload, "config", dict))
    errors = list(schemas.validator(f"nodes/{node_type}").iter_errors(config))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(config)"
        raise RemoteError(messages.remote_bad_request(f"config/{where}: {errors[0].message}"))
    children = []
    for child in payload.get("childConfigs") or []:
        if not isinstance(child, dict) or not isinstance(child.get("id"), str):
            raise RemoteError(messages.remote_bad_request("each childConfig needs an 'id'"))
        children.append(
            ChildConfig(
                id=child["id"], type=str(child.get("type", "")), config=child.get("config") or {}
            )
        )
    scope = {
        "input": dict(_require(payload, "input", dict)),
        "context": dict(payload.get("context") or {}),
        "profile": dict(payload.get("profile") or {}),
    }
    api = _recording_api(scope)
    if registered.function is not None:
        try:
            registered.function(
                NodeParams(
                    cognigy=Cognigy(
                        api=api,
                        input=scope["input"],
                        context=scope["context"],
                        profile=scope["profile"],
                    ),
                    config={**registered.descriptor.defaults(), **config},
                    node_id=node_id,
                    child_configs=children,
                )
            )
        except (NodeError, ValueError) as exc:
            raise RemoteError(str(exc), 422) from None
    return {
        "outputs": [o.to_dict() for o in api.outputs],
        "context": api.context_ops,
        "profile": api.profile_ops,
        "next": api.next_node,
        "wait": api.wait_node,
        "stop": api.stopped,
        "handover": api.handover_request.to_dict() if api.handover_request else None,
    }


# `on_handover(request, payload)` starts the handover a Handover node asked for and answers what the
# node does next (`status`, `outputs` to say, `handover` for the context); `on_relay(payload)`
# relays a user input. Both may raise a ValueError with a `status` attribute (the HTTP status).
HandoverStarter = Callable[[HandoverRequest, dict[str, Any]], "dict[str, Any] | None"]
InputRelay = Callable[[dict[str, Any]], dict[str, Any]]


def blueprint(
    api_key: str | None = None,
    on_handover: HandoverStarter | None = None,
    on_relay: InputRelay | None = None,
) -> Any:
    """A Flask blueprint serving `POST /extension/v1/execute` and, with `on_relay`, `POST
    /extension/v1/relay`. With `api_key`, requests must carry `Authorization: Bearer <api_key>`
    (the extension connection's API key)."""
    from flask import Blueprint, jsonify, request

    bp = Blueprint("om_bridge_extension", __name__)

    def refused() -> Any:
        if api_key is None:
            return None
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
            return None
        return jsonify(error="missing or wrong API key"), 401

    def failed(exc: Exception) -> Any:
        return jsonify(error=str(exc)), int(getattr(exc, "status", 400))

    def _body() -> Any:
        raw = request.get_data()
        payload = jsonbody.loads(raw)
        return jsonbody.scrub(payload) if jsonbody.may_hold_surrogates(raw) else payload

    @bp.post(EXECUTE_PATH)
    def execute_route() -> Any:
        denied = refused()
        if denied is not None:
            return denied
        try:
            payload = _body()
        except jsonbody.BodyError as exc:
            return jsonify(error=str(exc)), 400
        try:
            answer = execute(payload)
        except RemoteError as exc:
            return jsonify(error=str(exc)), exc.status
        if answer["handover"] is not None and on_handover is not None and isinstance(payload, dict):
            try:
                extra = on_handover(HandoverRequest.from_dict(answer["handover"]), payload)
            except ValueError as exc:
                return failed(exc)
            if extra:
                answer["outputs"] = [*answer["outputs"], *extra.get("outputs", [])]
                answer["status"] = extra.get("status")
                answer["handover"] = {**answer["handover"], **(extra.get("handover") or {})}
        return jsonify(answer)

    if on_relay is not None:

        @bp.post(RELAY_PATH)
        def relay_route() -> Any:
            denied = refused()
            if denied is not None:
                return denied
            try:
                payload = _body()
            except jsonbody.BodyError as exc:
                return jsonify(error=str(exc)), 400
            if not isinstance(payload, dict):
                return jsonify(error=messages.remote_bad_request("body must be a JSON object")), 400
            try:
                return jsonify(on_relay(payload))
            except ValueError as exc:
                return failed(exc)

    return bp
