"""Sandbox: eventbridge (registered by sandbox.app.create_app through init_app)."""

from __future__ import annotations


def init_app(app) -> None:  # pragma: no cover - replaced by the full implementation
    """Register this part of the sandbox on the Flask app."""
