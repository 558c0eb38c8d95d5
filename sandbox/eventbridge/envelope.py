"""EventBridge event envelopes as a Genesys partner event source delivers them to an API
destination (docs/reference/genesys-completion-detection.md §B.2, §B.6)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from .settings import EventBridgeSettings

_DETAIL_TOPIC = re.compile(r"^(v2\.detail\.events\.conversation\.)([^.]+)(\..+)$")

# Headers EventBridge API destinations add to every call (besides the connection's auth).
EVENTBRIDGE_HEADERS = {
    "User-Agent": "Amazon/EventBridge/ApiDestinations",
    "Content-Type": "application/json; charset=utf-8",
    "Range": "bytes=0-1048575",
    "Accept-Encoding": "gzip,deflate",
    "Connection": "close",
}


def topic_pattern(topic: str) -> str | None:
    """The pattern (`detail-type`) of a concrete detail topic: its id replaced by `{id}`."""
    match = _DETAIL_TOPIC.match(topic)
    if match is None:
        return None
    return f"{match.group(1)}{{id}}{match.group(3)}"


def iso_seconds(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_envelope(
    topic: str, body: dict, settings: EventBridgeSettings, org_id: str, now: datetime | None = None
) -> dict:
    """The full event for one published detail topic: `detail-type` is the pattern with `{id}`,
    `detail.topicName` the concrete topic, `time` ISO seconds, `detail.timestamp` ISO ms."""
    now = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": topic_pattern(topic) or topic,
        "source": f"aws.partner/genesys.com/cloud/{org_id}/{settings.source_suffix}",
        "account": settings.account,
        "time": iso_seconds(now),
        "region": settings.region,
        "resources": [],
        "detail": {
            "topicName": topic,
            "version": "2",
            "eventBody": body,
            "metadata": {"CorrelationId": str(uuid.uuid4())},
            "timestamp": iso_millis(now),
        },
    }
