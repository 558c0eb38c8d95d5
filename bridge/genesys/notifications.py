"""Notifications API calls (channels and topic subscriptions) of the Genesys client."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

CHANNELS = "/api/v2/notifications/channels"


class NotificationsMixin:
    """Channel and subscription calls, mixed into GenesysClient (which provides request, exists)."""

    request: Any
    exists: Any

    def create_channel(self) -> dict:
        """A new notification channel `{id, connectUri, expires}` (WebSocket URL in connectUri)."""
        return self.request("POST", CHANNELS, json_body={})

    def subscribe(self, channel_id: str, topics: list[str], *, replace: bool) -> dict:
        """Subscribe a channel to topics: PUT replaces the whole set, POST adds to it."""
        body = [{"id": topic} for topic in topics]
        path = f"{CHANNELS}/{quote(channel_id, safe='')}/subscriptions"
        return self.request("PUT" if replace else "POST", path, json_body=body)

    def get_subscriptions(self, channel_id: str) -> dict:
        """The channel's current topics (`ChannelTopicEntityListing`)."""
        return self.request("GET", f"{CHANNELS}/{quote(channel_id, safe='')}/subscriptions")

    def channel_exists(self, channel_id: str) -> bool:
        """Whether the channel is still alive (HEAD; 404 means expired or unknown)."""
        return self.exists(f"{CHANNELS}/{quote(channel_id, safe='')}")
