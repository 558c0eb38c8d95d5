"""User-facing and log texts of the sandbox Notifications API (REST, WebSocket, admin routes)."""

# REST errors (Genesys ErrorBody messages)
CHANNEL_NOT_FOUND = "Channel {channel_id} was not found or has expired."
TOPIC_LIMIT = (
    "Channel topic limit exceeded: a channel can hold at most {limit} topics "
    "({requested} requested)."
)
BODY_NOT_LIST = (
    'The request body must be a JSON array of ChannelTopic objects like [{{"id": "<topic>"}}].'
)
TOPIC_NOT_OBJECT = 'Item {index} of the body must be an object with a string "id" (the topic).'
TOPIC_UNKNOWN = "Topic {topic} is not a valid notification topic."
TOPIC_REJECTED = "Permission denied for topic {topic}."
TOPIC_REJECTED_REASON = "Missing permissions: {permissions}"
TOPIC_NOT_CURRENT_USER = "Topic {topic} is only available for the current user."
BAD_INCLUDECHANNELS = 'includechannels must be "token" or "oauthclient", not {value!r}.'
IGNORE_ERRORS_BAD = "ignoreErrors must be true or false, not {value!r}."

# System frames
SOCKET_CLOSING = (
    "The server is closing this WebSocket; open a new connection to the same connectUri."
)
NO_LONGER_SUBSCRIBED = "Topics were removed from this channel."
CHANNEL_EVICTED = (
    "This channel was removed because the user and OAuth client created more than {limit} channels."
)

# Admin routes
ADMIN_BAD_JSON = "The body must be a JSON object."
ADMIN_BAD_FIELD = "{field} must be {expected}."

# Logs
LOG_CHANNEL_CREATED = "notification channel %s created for client %s"
LOG_CHANNEL_EVICTED = "notification channel %s evicted (channel limit %s)"
LOG_SOCKET_OPEN = "notification socket opened on channel %s"
LOG_SOCKET_CLOSED = "notification socket closed on channel %s (%s)"
LOG_SOCKET_REPLACED = "notification socket on channel %s replaced by a new connection"
LOG_BAD_FRAME = "notification socket on channel %s sent an unreadable frame"
LOG_READ_ENDED = "notification socket read loop on channel %s ended"
