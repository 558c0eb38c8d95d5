"""User-facing and log message texts of completion detection (EventBridge, data actions,
notifications listener, pending-end sweeper, wiring checks)."""

from __future__ import annotations

# --- HTTP answers (JSON `error` / `reason` fields) ------------------------------------------
FLAG_OFF = (
    "HTTP end-of-handover requests are switched off: "
    'FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST is not "true" on this bridge'
)
KEY_NOT_CONFIGURED = (
    "unauthorized: GENESYS_EVENTBRIDGE_HANDOVER_API_KEY is not set on the bridge, so no "
    "EventBridge request can be accepted"
)
KEY_MISSING = "unauthorized: the Authorization header with the EventBridge API key is missing"
KEY_WRONG = "unauthorized: the Authorization header does not match the EventBridge API key"
DATA_ACTION_NO_CREDENTIAL = (
    "unauthorized: no handover provider has data_action_auth configured, so no data-action "
    "end request can be accepted"
)
DATA_ACTION_BAD_CREDENTIAL = (
    "unauthorized: the request does not carry a configured data-action credential "
    "(Basic or header credential of data_action_auth)"
)
BAD_JSON = "the body is not valid JSON: {error}"
BAD_SCHEMA = "the body does not match schema {schema}: at {path}: {message}"
TOO_LARGE = "the body is larger than {limit} bytes"
ORG_MISSING = (
    "the event's source names no Genesys organisation "
    "(aws.partner/genesys.com/cloud/<orgId>/<suffix>); set "
    "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK=true only if the events really come from Genesys"
)
ORG_MISMATCH = (
    "the event's Genesys organisation {got} is not the organisation {expected} configured for "
    'provider "{provider}" (set SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK=true if one '
    "Genesys org serves several bridges)"
)

# --- dispatcher decisions (the `reason` of a Decision) --------------------------------------
R_NOT_OPEN_MESSAGING = (
    "not an Open Messaging conversation (mediaType {media}, messageType {message})"
)
R_UNKNOWN_CONVERSATION = "no handover for conversation {conversation}"
R_UNKNOWN_CUSTOMER = "no open handover for customer {customer}"
R_ALREADY_ENDED = "handover {handover} already ended ({status})"
R_STALE = "event time {event} is before handover {handover} started ({created}): stale"
R_TRANSFER = "agent leg ended by a transfer ({disconnect})"
R_IGNORED_KIND = "event kind {kind} needs no action"
R_ENDED = "{kind} ({disconnect}) via {source}"
R_WAIT = "{kind} via {source}: ending at {due} unless a new agent joins"
R_VERIFY = (
    "{kind} via {source} names no conversation: ending at {due} once Genesys confirms the "
    "customer left"
)
R_WAIT_KEPT = "{kind} via {source}: an end is already pending for {due}"
R_CANCELLED = "an agent joined after the pending end: cancelled"
R_NOTHING_PENDING = "agent joined; no pending end"
R_END_FAILED = "ending handover {handover} failed: {error}"

# --- sweeper ---------------------------------------------------------------------------------
SWEEP_END = "no agent joined within {timeout_ms} ms after {kind}"
SWEEP_END_UNVERIFIED = (
    "no agent joined within {timeout_ms} ms after {kind} (Genesys unreachable: {error})"
)
SWEEP_CUSTOMER_GONE = "the customer participant has ended"
R_CHECK = (
    "unauthenticated {kind} via {source}: a request to check; the handover ends at {due} only if "
    "Genesys' REST API confirms the customer left"
)
SWEEP_NOT_CONFIRMED = (
    "an unauthenticated end request was not confirmed by Genesys ({verdict}): nothing ended"
)
LOG_CHECK_DROPPED = "unauthenticated end request for handover %s not confirmed (%s): nothing ended"
LOG_SWEEP_CANCEL = "pending end of handover %s cancelled: %s"
LOG_SWEEP_RETRY = "cannot verify conversation %s (%s); retrying in %.1fs"

# --- logs ------------------------------------------------------------------------------------
LOG_DECISION = "completion %s: %s -> %s (%s)"
LOG_REJECTED = "completion request rejected from %s: %s"
LOG_END_FAILED = "ending handover %s failed"
LOG_LISTENER_LEADER = "notifications listener for OAuth client %s: leader (%s)"
LOG_LISTENER_FOLLOWER = "notifications listener for OAuth client %s: another process holds the lock"
LOG_LISTENER_LOST_LOCK = (
    "notifications listener for OAuth client %s lost its lock; stopping sockets"
)
LOG_CHANNEL_CREATED = "notifications channel %s created (%d topics)"
LOG_SOCKET_OPEN = "notifications socket open on channel %s"
LOG_SOCKET_CLOSED = "notifications socket on channel %s closed: %s"
LOG_SOCKET_CLOSING = "Genesys announced socket_closing on channel %s: opening a new socket first"
LOG_HEARTBEAT_LOST = "no frame on channel %s for %.0fs and no pong: reconnecting"
LOG_RECONNECT = "reconnecting channel %s in %.1fs (%s)"
LOG_CHANNEL_GONE = "channel %s no longer exists: creating a new one and resubscribing %d topics"
LOG_NO_LONGER_SUBSCRIBED = "channel %s: no_longer_subscribed (%s); resynchronising"
LOG_TOKEN_REVOKED = "channel %s: token revoked; reconnecting with a fresh token"
LOG_RECONCILE = "reconciling %d open conversations after a gap on channel %s"
LOG_RECONCILE_SCHEDULED = "scheduled check of %d tracked conversations through REST"
LOG_BAD_FRAME = "notifications frame on channel %s dropped: %s"
LOG_LISTENER_ERROR = "notifications listener error (%s); retrying in %.1fs"
TOPIC_BUDGET_EXCEEDED = (
    "cannot track conversation {conversation}: the notifications listener of OAuth client "
    "{client} already uses {channels} channels x {topics} topics (the Genesys maximum). Use "
    'completion = "eventbridge" (or "webhook") for this volume, or add another OAuth client'
)

# --- listener CLI ----------------------------------------------------------------------------
CLI_NO_PROVIDERS = (
    'no handover provider uses completion = "notifications"{which}; nothing to listen to'
)
CLI_UNKNOWN_PROVIDER = "unknown provider {provider} (known: {known})"
CLI_RUNNING = "notifications listener running for {providers} (store {store}); Ctrl-C stops it"
CLI_FAILED = "om-bridge listener cannot start: {error}"

# --- wiring checks ---------------------------------------------------------------------------
W_EB_FLAG = "EventBridge end requests enabled"
W_EB_KEY = "EventBridge API key configured"
W_EB_ORG = "EventBridge organisation check"
W_DA_AUTH = "Data-action credential configured"
W_DA_TIMEOUT = "Transfer grace period"
W_NOTIF_CHANNEL = "Notifications channel can be created"
W_NOTIF_SOCKET = "Notifications WebSocket connects"
W_MODE = "Completion mode"
W_OK_FLAG = 'FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST is "true"'
W_FIX_FLAG = "set FEATURE_USE_GENESYS_OM_HTTP_END_HANDOVER_REQUEST=true in the bridge's environment"
W_OK_KEY = "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY is set ({length} characters)"
W_BAD_KEY = "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY is not set"
W_FIX_KEY = (
    "set GENESYS_EVENTBRIDGE_HANDOVER_API_KEY to a long random value and use the same value as the "
    "API key (header Authorization) of the EventBridge connection"
)
W_ORG_SKIPPED = "skipped: SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK is on"
W_ORG_SET = "events must come from Genesys organisation {org}"
W_ORG_UNSET = (
    "organization_id is not set for this provider, so events are not checked against an "
    "organisation"
)
W_FIX_ORG = (
    "set organization_id of the provider to your Genesys organisation id "
    "(Admin > Organization Settings)"
)
W_DA_OK = "{type} credential configured"
W_DA_MISSING = (
    "data_action_auth is not set: data-action end requests arrive without a credential, as "
    "Cognigy's guide sets them up, and each is checked with Genesys' REST API before anything ends"
)
W_FIX_DA = (
    'set data_action_auth = { type = "basic", username = ..., password = "env:..." } '
    "(or a header credential) and use the same credential in the Web Services Data Actions "
    "integration"
)
W_DA_TIMEOUT_OK = "user.end / acw end the handover after {ms} ms without a new agent"
W_NOTIF_OK = "channel {channel} created with the configured OAuth client"
W_NOTIF_FAILED = "creating a notifications channel failed: {error}"
SEED_CREDENTIALS = "5. Configure Credentials"
W_FIX_NOTIF = (
    "give the OAuth client the permissions for notifications and analytics:conversationDetail:view "
    f'(setup step "{SEED_CREDENTIALS}", docs/genesys-setup.md) and check client_id / client_secret'
)
W_SOCKET_OK = "WebSocket {uri} answered"
W_SOCKET_FAILED = "the WebSocket at {uri} did not connect: {error}"
W_FIX_SOCKET = (
    "allow outbound WebSocket (wss://streaming.<region domain>) connections from the bridge host"
)
W_MODE_OK = 'completion = "{mode}"'
W_MODE_UNKNOWN = "unknown completion mode {mode!r}"
W_FIX_MODE = 'set completion to "eventbridge", "webhook" or "notifications"'
