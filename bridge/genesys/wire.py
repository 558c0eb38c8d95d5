"""Request bodies for the Open Messaging and integration routes, shaped like the SDK models."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import messages

# Each route's request body, by the name of its model in PureCloudPlatformClientV2 (SDK 269).
SDK_MODELS: dict[str, str] = {
    "POST /api/v2/conversations/messages/{integrationId}/inbound/open/message": "OpenInboundNormalizedMessage",
    "POST /api/v2/conversations/messages/{integrationId}/inbound/open/event": "OpenInboundNormalizedEvent",
    "POST /api/v2/conversations/messages/{integrationId}/inbound/open/receipt": "OpenInboundNormalizedReceipt",
    "POST /api/v2/conversations/messages/{integrationId}/inbound/open/structured/response": "OpenInboundStructuredResponseMessage",
    "POST /api/v2/conversations/messaging/integrations/open": "OpenIntegrationRequest",
    "PATCH /api/v2/conversations/messaging/integrations/open/{integrationId}": "OpenIntegrationUpdateRequest",
    "PUT /api/v2/notifications/channels/{channelId}/subscriptions": "list[ChannelTopic]",
    "POST /api/v2/notifications/channels/{channelId}/subscriptions": "list[ChannelTopic]",
    "PATCH /api/v2/conversations/messages/{conversationId}/participants/{participantId}": "MediaParticipantRequest",
}

ID_TYPES = ("Email", "Phone", "Opaque")
RECEIPT_STATUSES = ("Delivered", "Failed")  # the only ones the receipt route accepts (DEV-RCPT)
RESPONSE_TYPES = ("Button", "QuickReply", "DatePicker")
# The SDK docstring of OpenIntegrationRequest: the secret "must be longer than 15 characters".
MIN_SECRET_LENGTH = 16

# Python keyword → wire field of OpenIntegrationRequest / OpenIntegrationUpdateRequest.
INTEGRATION_FIELDS: dict[str, str] = {
    "name": "name",
    "webhook_url": "outboundNotificationWebhookUrl",
    "webhook_secret": "outboundNotificationWebhookSignatureSecretToken",
    "webhook_headers": "webhookHeaders",
    "supported_content_id": "supportedContent",
    "messaging_setting_id": "messagingSetting",
}


def _canonical(value: str, allowed: tuple[str, ...], error: str) -> str:
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise ValueError(error)


@dataclass(frozen=True, slots=True)
class Customer:
    """The end user as Genesys sees them (`OpenMessagingFromRecipient`)."""

    id: str
    id_type: str = "Opaque"
    nickname: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    image: str | None = None

    def to_wire(self) -> dict[str, str]:
        """The recipient object with canonical `idType` casing and only the fields that are set."""
        if not self.id:
            raise ValueError(messages.required_value("Customer id"))
        # The schema enum is Email/Phone/Opaque; Genesys tolerates other casing, we emit canonical.
        id_type = _canonical(self.id_type, ID_TYPES, messages.id_type_invalid(self.id_type))
        wire = {"id": self.id, "idType": id_type}
        for key, value in (
            ("nickname", self.nickname),
            ("firstName", self.first_name),
            ("lastName", self.last_name),
            ("email", self.email),
            ("image", self.image),
        ):
            if value:
                wire[key] = value
        return wire


def iso_time(value: datetime | str | None = None) -> str:
    """ISO-8601 UTC with milliseconds and `Z` (`2025-05-02T09:31:22.733Z`); now when None."""
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(messages.time_invalid(value)) from None
    else:
        raise ValueError(messages.time_invalid(value))
    if moment.tzinfo is None:  # naive times are taken as UTC
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch(value: str) -> float | None:
    """Epoch seconds of an ISO-8601 time such as `channel.time` (naive is UTC); None when empty
    or unparseable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def string_map(values: Mapping[str, Any]) -> dict[str, str]:
    """A map<string,string> as Genesys requires: strings kept, others JSON-encoded, None dropped."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[str(key)] = (
            value
            if isinstance(value, str)
            else json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        )
    return out


def message_body(
    customer: Customer,
    message_id: str,
    *,
    text: str | None,
    content: list | None,
    time: datetime | str | None,
    custom_attributes: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
) -> dict:
    """`OpenInboundNormalizedMessage` (docs/reference/genesys-open-messaging.md §3.1); custom attributes in channel.metadata."""
    if not message_id:
        raise ValueError(messages.required_value("message_id"))
    if not text and not content:
        raise ValueError(messages.content_required())
    channel: dict[str, Any] = {
        "messageId": message_id,
        "from": customer.to_wire(),
        "time": iso_time(time),
    }
    if custom_attributes:
        # Not in the SDK's ConversationChannelMetadata, but where Genesys reads participant data.
        channel["metadata"] = {"customAttributes": string_map(custom_attributes)}
    body: dict[str, Any] = {"channel": channel}
    if text:
        body["text"] = text
    if content:
        body["content"] = list(content)
    if metadata:
        body["metadata"] = string_map(metadata)
    return body


def typing_body(customer: Customer, time: datetime | str | None) -> dict:
    """`OpenInboundNormalizedEvent` with the only Open event type, Typing (docs/reference/genesys-open-messaging.md §4.1)."""
    return {
        "channel": {"from": customer.to_wire(), "time": iso_time(time)},
        "events": [{"eventType": "Typing"}],
    }


def receipt_body(
    genesys_message_id: str,
    customer_id: str,
    status: str,
    *,
    reasons: list[dict] | None,
    is_final: bool,
    time: datetime | str | None,
) -> dict:
    """`OpenInboundNormalizedReceipt` for an agent message (docs/reference/genesys-open-messaging.md §4.2)."""
    status = _canonical(status, RECEIPT_STATUSES, messages.receipt_status_invalid(status))
    if not genesys_message_id:
        raise ValueError(messages.required_value("genesys_message_id"))
    if not customer_id:
        raise ValueError(messages.required_value("customer_id"))
    body: dict[str, Any] = {
        "id": genesys_message_id,
        "channel": {"to": {"id": customer_id}, "time": iso_time(time)},
        "status": status,
        "isFinalReceipt": bool(is_final),
    }
    if reasons:
        body["reasons"] = [_reason(r) for r in reasons]
    return body


def _reason(reason: Mapping[str, Any]) -> dict:
    # ConversationReason: `message` required, `code` (MessageExpired, GeneralError, …) optional.
    if not reason.get("message"):
        raise ValueError(messages.required_value("reason message"))
    out = {"message": str(reason["message"])}
    if reason.get("code"):
        out = {"code": str(reason["code"]), **out}
    return out


def structured_response_body(
    customer: Customer,
    message_id: str,
    *,
    text: str,
    payload: str,
    originating_message_id: str,
    response_type: str,
    time: datetime | str | None,
) -> dict:
    """`OpenInboundStructuredResponseMessage`: a button / quick-reply click (docs/reference/genesys-open-messaging.md §4.3)."""
    kind = _canonical(response_type, RESPONSE_TYPES, messages.response_type_invalid(response_type))
    for name, value in (
        ("message_id", message_id),
        ("text", text),
        ("payload", payload),
        ("originating_message_id", originating_message_id),
    ):
        if not value:
            raise ValueError(messages.required_value(name))
    channel = {"messageId": message_id, "from": customer.to_wire(), "time": iso_time(time)}
    return {
        "channel": channel,
        "buttonResponse": {"type": kind, "text": text, "payload": payload},
        "originatingMessageId": originating_message_id,
    }


def integration_fields(fields: Mapping[str, Any]) -> dict:
    """Wire (camelCase) fields of an integration create/update from Python keywords."""
    body: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in INTEGRATION_FIELDS:
            raise ValueError(messages.integration_field_unknown(key, list(INTEGRATION_FIELDS)))
        if value is None:
            continue
        if key == "webhook_secret" and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(messages.webhook_secret_too_short())
        if key in ("supported_content_id", "messaging_setting_id"):
            value = {"id": value}
        elif key == "webhook_headers":
            value = string_map(value)
        body[INTEGRATION_FIELDS[key]] = value
    return body
