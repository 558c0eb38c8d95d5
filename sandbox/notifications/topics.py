"""The topic catalogue of the sandbox Notifications API: which topics a channel may subscribe, who
may subscribe them, and the `AvailableTopic` listing.

Genesys topics carry real ids (no wildcards); the catalogue holds the patterns with `{id}`. The
conversation detail topics, the queue/user message conversation topics and the generic queue/user
conversation topics are the ones the sandbox publishes
(docs/reference/genesys-completion-detection.md §A.4); a few more Genesys topics are accepted so a
client that subscribes them is not refused, they simply stay quiet (docs/sandbox.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import messages

_ID = r"[A-Za-z0-9_\-]+"
DETAIL_SUFFIXES = (
    "acd.end",
    "acd.start",
    "acw",
    "attributes",
    "contact",
    "customer.end",
    "customer.start",
    "flow.end",
    "flow.outcome",
    "flow.start",
    "outbound",
    "user.end",
    "user.start",
    "voicemail.end",
    "voicemail.start",
    "wrapup",
)
_DETAIL_NAMES = {
    "acd.end": "AcdEndEvent",
    "acd.start": "AcdStartEvent",
    "acw": "AfterCallWorkEvent",
    "attributes": "AttributeUpdateEvent",
    "contact": "ContactUpdateEvent",
    "customer.end": "CustomerEndEvent",
    "customer.start": "CustomerStartEvent",
    "flow.end": "FlowEndEvent",
    "flow.outcome": "FlowOutcomeEvent",
    "flow.start": "FlowStartEvent",
    "outbound": "OutboundInitEvent",
    "user.end": "UserEndEvent",
    "user.start": "UserStartEvent",
    "voicemail.end": "VoicemailEndEvent",
    "voicemail.start": "VoicemailStartEvent",
    "wrapup": "WrapupEvent",
}

# Permissions as Genesys names them; a client-credentials token has no "current user".
DETAIL_PERMISSION = "analytics:conversationDetail:view"
QUEUE_PERMISSION = "routing:queue:view"
USER_PERMISSION = "conversation:communication:view"


@dataclass(frozen=True)
class TopicSpec:
    """One topic pattern: `pattern` with `{id}`, its description and permission rules."""

    pattern: str
    description: str
    permissions: tuple[str, ...] = ()
    current_user_or_permission: bool = False
    transports: tuple[str, ...] = ("Websocket", "EventBridge")
    regex: re.Pattern = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        rx = "^" + re.escape(self.pattern).replace(re.escape("{id}"), f"({_ID})") + "$"
        object.__setattr__(self, "regex", re.compile(rx))

    def available_topic(self) -> dict:
        """This pattern as an SDK `AvailableTopic`."""
        details = [
            {
                "type": "requiresPermissions",
                "permissions": list(self.permissions),
                "allowsCurrentUser": self.current_user_or_permission,
                "enforced": True,
            }
        ]
        return {
            "id": self.pattern,
            "description": self.description,
            "requiresPermissions": list(self.permissions),
            "permissionDetails": details if self.permissions else [],
            "requiresDivisionPermissions": False,
            "requiresAnyValidator": False,
            "enforced": bool(self.permissions),
            "visibility": "Public",
            "requiresCurrentUser": False,
            "requiresCurrentUserOrPermission": self.current_user_or_permission,
            "transports": list(self.transports),
            "publicApiTemplateUriPaths": [],
            "topicParameters": ["id"],
        }


CATALOGUE: tuple[TopicSpec, ...] = (
    *(
        TopicSpec(
            f"v2.detail.events.conversation.{{id}}.{suffix}",
            f"Topic for analytics detail event type: {_DETAIL_NAMES[suffix]}.",
            (DETAIL_PERMISSION,),
        )
        for suffix in DETAIL_SUFFIXES
    ),
    TopicSpec(
        "v2.routing.queues.{id}.conversations.messages",
        "Message conversations on a queue.",
        (QUEUE_PERMISSION,),
        transports=("Websocket",),
    ),
    TopicSpec(
        "v2.routing.queues.{id}.conversations",
        "Conversations on a queue.",
        (QUEUE_PERMISSION,),
        transports=("Websocket",),
    ),
    TopicSpec(
        "v2.users.{id}.conversations.messages",
        "Message conversations of a user.",
        (USER_PERMISSION,),
        True,
        ("Websocket",),
    ),
    TopicSpec(
        "v2.users.{id}.conversations",
        "Conversations of a user.",
        (USER_PERMISSION,),
        True,
        ("Websocket",),
    ),
    TopicSpec(
        "v2.users.{id}.routingStatus",
        "Raised when the routing status of a user is changed.",
        (),
        True,
    ),
    TopicSpec("v2.users.{id}.presence", "Presence changes of a user.", (), True),
)


def find_spec(topic: str) -> tuple[TopicSpec, str] | None:
    """The catalogue entry matching a concrete topic and the id it carries; None if unknown."""
    for spec in CATALOGUE:
        match = spec.regex.match(topic)
        if match:
            return spec, match.group(1)
    return None


def check_topic(topic: str, user_id: str | None, has: Callable[[str], bool]) -> dict:
    """A `ChannelTopic` for `topic`: `Permitted`, or `Rejected` with the reason and the missing
    permissions. Raises `ValueError` for a topic that is not a notification topic at all."""
    found = find_spec(topic)
    if found is None:
        raise ValueError(messages.TOPIC_UNKNOWN.format(topic=topic))
    spec, topic_id = found
    entity: dict = {"id": topic, "state": "Permitted"}
    if spec.current_user_or_permission and user_id is not None and topic_id == user_id:
        return entity
    missing = [p for p in spec.permissions if not has(p)]
    if spec.current_user_or_permission and not spec.permissions and topic_id != user_id:
        entity.update(
            state="Rejected",
            rejectionReason=messages.TOPIC_NOT_CURRENT_USER.format(topic=topic),
            missingPermissions=[],
        )
    elif missing:
        entity.update(
            state="Rejected",
            rejectionReason=messages.TOPIC_REJECTED_REASON.format(permissions=", ".join(missing)),
            missingPermissions=missing,
        )
    return entity


def available_topics() -> list[dict]:
    """Every catalogue entry as an `AvailableTopic`."""
    return [spec.available_topic() for spec in CATALOGUE]
