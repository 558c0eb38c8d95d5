"""The contract between the durable outbox and the senders of its lanes (Genesys, Cognigy):
a sender either returns (the item was delivered) or raises `SendFailed` saying whether the
attempt may be retried."""

from __future__ import annotations


class SendFailed(Exception):
    """Raised by a sender of another kind (e.g. Cognigy's Inject/Notify) for an attempt that did
    not succeed: retried (after `retry_after` seconds when given, else with backoff) when
    `retryable`, else dead-lettered; `alert` makes every failed attempt an error in the log."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        alert: bool = False,
    ) -> None:
        super().__init__(reason)
        self.retryable, self.retry_after, self.alert = retryable, retry_after, alert
