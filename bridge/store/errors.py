"""Errors raised by the store."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store error."""


class StoreConflict(StoreError):
    """The write contradicts what is stored (e.g. a second open handover for one session)."""


class NotFound(StoreError, KeyError):
    """The record asked for does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LockTimeout(StoreError, TimeoutError):
    """A session lock could not be taken within its timeout."""
