"""Open Messaging integrations API: list (paged), get, create (async `createStatus`), patch, delete
(`/api/v2/conversations/messaging/integrations/open`), plus the messaging settings and the threading
timeline read by clients."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from om_bridge.sandbox import messages
from om_bridge.sandbox.apiutil import BadRequest, created, handles_errors, json_body, paged, sandbox
from om_bridge.sandbox.auth import require_auth
from om_bridge.sandbox.errors import error_body
from om_bridge.sandbox.state import now_iso

bp = Blueprint("sandbox_integrations", __name__)
BASE = "/api/v2/conversations/messaging/integrations/open"
_INTERNAL = {"flow_id", "messaging_setting_id", "created_mono"}
CREATE_SECONDS = 0.2  # how long a new integration stays `Initiated`


def integration_view(integ: dict) -> dict:
    """`OpenIntegration` JSON of a stored integration (read and completed under the store lock)."""
    store = sandbox().store
    with store.lock:
        return _view(store, integ)


def _view(store: Any, integ: dict) -> dict:
    # Creation is asynchronous in Genesys; the first read after CREATE_SECONDS completes it.
    # This writes the stored integration, hence the lock.
    if (
        integ.get("createStatus") == "Initiated"
        and time.monotonic() - integ.get("created_mono", 0) >= CREATE_SECONDS
    ):
        integ["createStatus"] = "Completed"
    out = {k: v for k, v in integ.items() if k not in _INTERNAL}
    out.setdefault(
        "supportedContent",
        {
            "id": "webMessagingDefault",
            "name": "Default",
            "selfUri": "/api/v2/conversations/messaging/supportedcontent/webMessagingDefault",
        },
    )
    setting = store.messaging_settings.get(integ.get("messaging_setting_id") or "")
    if setting is not None:
        out["messagingSetting"] = {
            "id": setting["id"],
            "name": setting.get("name"),
            "selfUri": f"/api/v2/conversations/messaging/settings/{setting['id']}",
        }
    out["recipient"] = {
        "id": integ["id"],
        "name": integ["name"],
        "selfUri": f"/api/v2/routing/message/recipients/{integ['id']}",
    }
    out["selfUri"] = f"{BASE}/{integ['id']}"
    return out


def _validate(body: dict, partial: bool) -> dict:
    out: dict[str, Any] = {}
    required = (
        "name",
        "outboundNotificationWebhookUrl",
        "outboundNotificationWebhookSignatureSecretToken",
    )
    for key in required:
        if key not in body:
            if not partial:
                raise BadRequest(f"{key} is required", code="invalid.value")
            continue
        value = body[key]
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{key} must be a non-empty string", code="invalid.value")
        out[key] = value
    url = out.get("outboundNotificationWebhookUrl")
    if url is not None and not url.startswith(("http://", "https://")):
        raise BadRequest(
            "outboundNotificationWebhookUrl must be an http(s) URL", code="invalid.value"
        )
    secret = out.get("outboundNotificationWebhookSignatureSecretToken")
    if secret is not None and len(secret) <= 15:
        raise BadRequest(messages.SECRET_TOO_SHORT, code="invalid.value")
    if "webhookHeaders" in body:
        headers = body["webhookHeaders"]
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise BadRequest(
                "webhookHeaders must be a map of string to string", code="invalid.value"
            )
        out["webhookHeaders"] = headers
    if "messagingSetting" in body:
        ref = body["messagingSetting"]
        sid = ref.get("id") if isinstance(ref, dict) else None
        if sid not in sandbox().store.messaging_settings:
            raise BadRequest(f"messagingSetting.id {sid!r} does not exist", code="invalid.value")
        out["messaging_setting_id"] = sid
    if "supportedContent" in body:
        ref = body["supportedContent"]
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise BadRequest("supportedContent.id must be a string", code="invalid.value")
        out["supportedContent"] = {
            "id": ref["id"],
            "selfUri": f"/api/v2/conversations/messaging/supportedcontent/{ref['id']}",
        }
    return out


def _name_taken(name: str, except_id: str | None = None) -> bool:
    return any(
        i["name"] == name and i["id"] != except_id for i in sandbox().store.integrations.values()
    )


def _actor() -> dict:
    uid = g.principal.user_id or g.principal.client_id
    return {"id": uid, "selfUri": f"/api/v2/users/{uid}"}


@bp.get(BASE)
@require_auth("messaging:integration:view")
@handles_errors
def list_integrations() -> ResponseReturnValue:
    store = sandbox().store
    with store.lock:
        items = sorted(store.integrations.values(), key=lambda i: (i["name"].lower(), i["id"]))
        setting = request.args.get("messagingSetting.id")
        if setting:
            items = [i for i in items if i.get("messaging_setting_id") == setting]
        views = [integration_view(i) for i in items]
    return paged(views, BASE, {"messagingSetting.id": setting or None})


@bp.get(f"{BASE}/<integration_id>")
@require_auth("messaging:integration:view")
def get_integration(integration_id: str) -> ResponseReturnValue:
    store = sandbox().store
    with store.lock:
        integ = store.integrations.get(integration_id)
        if integ is None:
            return error_body(
                404,
                "not.found",
                messages.NOT_FOUND_ENTITY.format(kind="Integration", id=integration_id),
            )
        return jsonify(integration_view(integ))


@bp.post(BASE)
@require_auth("messaging:integration:add")
@handles_errors
def create_integration() -> ResponseReturnValue:
    fields = _validate(json_body(), partial=False)
    store = sandbox().store
    with store.lock:
        if _name_taken(fields["name"]):
            return error_body(
                409, "conflict", messages.INTEGRATION_NAME_TAKEN.format(name=fields["name"])
            )
        now = now_iso()
        integ = {
            "id": str(uuid.uuid4()),
            "webhookHeaders": {},
            "status": "Active",
            "dateCreated": now,
            "dateModified": now,
            "createdBy": _actor(),
            "modifiedBy": _actor(),
            "createStatus": "Initiated",
            "created_mono": time.monotonic(),
            "flow_id": store.default_flow_id,
            "messaging_setting_id": next(iter(store.messaging_settings), None),
            **fields,
        }
        store.integrations[integ["id"]] = integ
        return created(integration_view(integ), 202)


@bp.patch(f"{BASE}/<integration_id>")
@require_auth("messaging:integration:edit")
@handles_errors
def patch_integration(integration_id: str) -> ResponseReturnValue:
    store = sandbox().store
    fields = _validate(json_body(), partial=True)
    with store.lock:
        integ = store.integrations.get(integration_id)
        if integ is None:
            return error_body(
                404,
                "not.found",
                messages.NOT_FOUND_ENTITY.format(kind="Integration", id=integration_id),
            )
        if "name" in fields and _name_taken(fields["name"], integration_id):
            return error_body(
                409, "conflict", messages.INTEGRATION_NAME_TAKEN.format(name=fields["name"])
            )
        integ.update(fields)
        integ["dateModified"] = now_iso()
        integ["modifiedBy"] = _actor()
        return jsonify(integration_view(integ))


@bp.delete(f"{BASE}/<integration_id>")
@require_auth("messaging:integration:delete")
def delete_integration(integration_id: str) -> ResponseReturnValue:
    store = sandbox().store
    with store.lock:
        if store.integrations.pop(integration_id, None) is None:
            return error_body(
                404,
                "not.found",
                messages.NOT_FOUND_ENTITY.format(kind="Integration", id=integration_id),
            )
    return "", 204


@bp.get("/api/v2/conversations/messaging/settings/<setting_id>")
@require_auth("messaging:setting:view", "messaging:integration:view", any_of=True)
def get_setting(setting_id: str) -> ResponseReturnValue:
    setting = sandbox().store.messaging_settings.get(setting_id)
    if setting is None:
        return error_body(
            404,
            "not.found",
            messages.NOT_FOUND_ENTITY.format(kind="MessagingSetting", id=setting_id),
        )

    def onoff(flag: bool) -> str:
        return "Enabled" if flag else "Disabled"

    return jsonify(
        {
            "id": setting["id"],
            "name": setting.get("name"),
            "event": {
                "typing": {
                    "on": {
                        "inbound": onoff(setting.get("typing_inbound", False)),
                        "outbound": onoff(setting.get("typing_outbound", False)),
                    }
                }
            },
            "selfUri": f"/api/v2/conversations/messaging/settings/{setting['id']}",
        }
    )


@bp.get("/api/v2/conversations/messaging/threadingtimeline")
@require_auth("messaging:integration:view", "conversation:message:view", any_of=True)
def threading_timeline() -> ResponseReturnValue:
    minutes = int(sandbox().config.threading_window_minutes)
    return jsonify(
        {
            "id": "threadingtimeline",
            "defaultTimeoutMinutes": minutes,
            "settings": [{"messengerType": "open", "timeoutInMinutes": minutes}],
            "selfUri": "/api/v2/conversations/messaging/threadingtimeline",
        }
    )
