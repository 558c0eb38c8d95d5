"""The Notifications API WebSocket listener (completion = "notifications")."""

from .core import NotificationsListener, customer_end_topic, queue_topic
from .settings import ListenerSettings
from .shards import TopicBudgetExceeded, TopicShards

__all__ = [
    "ListenerSettings",
    "NotificationsListener",
    "TopicBudgetExceeded",
    "TopicShards",
    "customer_end_topic",
    "queue_topic",
]
