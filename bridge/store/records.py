"""The records the store keeps: session keys, handovers and outbox items (plain dataclasses)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import quote, unquote

OPEN_STATUSES: Final = frozenset({"requested", "queue", "active"})
END_STATUSES: Final = frozenset({"completed", "cancelled", "error"})
STATUSES: Final = OPEN_STATUSES | END_STATUSES

# Fields `Store.update_handover` may change; identity, session and end fields are not among them
# (the end goes through `finish_handover`, which is atomic and exactly-once).
UPDATABLE_FIELDS: Final = frozenset(
    {
        "integration_id",
        "customer_id",
        "conversation_id",
        "status",
        "settings",
        "agent",
        "pending_end_at",
        "data",
    }
)


def new_customer_id() -> str:
    """A fresh Open Messaging customer id (`channel.from.id`) for one handover: random, so no
    other session can name it."""
    return "om-" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class SessionKey:
    """One conversation of one user on one endpoint, as Cognigy identifies it."""

    url_token: str
    user_id: str
    session_id: str

    def as_str(self) -> str:
        """A stable, unambiguous string form (each part percent-encoded, joined by ':')."""
        return ":".join(quote(p, safe="") for p in (self.url_token, self.user_id, self.session_id))

    @classmethod
    def from_str(cls, text: str) -> SessionKey:
        """The inverse of `as_str`."""
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"not a session key: {text!r}")
        return cls(*(unquote(p) for p in parts))


@dataclass(slots=True)
class Handover:
    """One handover of a session to a Genesys agent, from request to its end."""

    id: str
    session: SessionKey
    provider_id: str
    integration_id: str | None
    customer_id: str
    conversation_id: str | None = None
    status: str = "requested"  # requested|queue|active|completed|cancelled|error
    settings: dict = field(default_factory=dict)
    agent: dict | None = None
    created_at: float = 0.0  # 0 = "now", filled in by create_handover
    updated_at: float = 0.0
    ended_at: float | None = None
    end_reason: str | None = None
    pending_end_at: float | None = None
    data: dict = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        session: SessionKey,
        provider_id: str,
        customer_id: str,
        integration_id: str | None = None,
        **fields: Any,
    ) -> Handover:
        """A fresh handover with a random id, created now."""
        now = time.time()
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", fields["created_at"])
        return cls(
            id=uuid.uuid4().hex,
            session=session,
            provider_id=provider_id,
            integration_id=integration_id,
            customer_id=customer_id,
            **fields,
        )

    @property
    def is_open(self) -> bool:
        """True until `finish_handover` ended it."""
        return self.ended_at is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the session as its three parts)."""
        d = asdict(self)
        d["session"] = asdict(self.session)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Handover:
        """The inverse of `to_dict`."""
        d = dict(d)
        d["session"] = SessionKey(**d["session"])
        return cls(**d)


@dataclass(slots=True)
class OutboxItem:
    """One pending (or dead-lettered) call to Genesys, ordered FIFO per `key`."""

    id: int
    key: str
    kind: str
    payload: dict
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float


@dataclass(slots=True)
class InboundCompletion:
    """Which inbound item a stored output completes; the store fills in `removed` and, when an
    `owner` is given, `next_item`: the next item of the same key, already leased to that owner."""

    item_id: int
    owner: str | None = None
    lease_seconds: float = 60.0
    removed: bool = False
    next_item: OutboxItem | None = None


@dataclass(frozen=True, slots=True)
class UploadQuota:
    """The most one session may keep in unexpired uploads at once: a count and a total size in
    bytes (None: that one is not bounded)."""

    max_count: int | None = None
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class UploadUsage:
    """What one session keeps in unexpired uploads: how many, and their total size in bytes."""

    count: int = 0
    bytes: int = 0
