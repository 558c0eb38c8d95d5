"""User-facing and log message texts of the sandbox (one place, so wording stays consistent)."""

# configuration
CONFIG_BAD_SOURCE = "sandbox config: cannot load a configuration from a {type}"
CONFIG_NOT_TABLE = "sandbox config: '{key}' must be a table/object"
CONFIG_NOT_LIST = "sandbox config: '{key}' must be a list of tables ([[{key}]])"
CONFIG_UNKNOWN_KEY = "sandbox config: unknown key '{key}'"
CONFIG_BAD_TYPE = "sandbox config: '{key}' must be {expected}, got {got}"
CONFIG_NEGATIVE = "sandbox config: '{key}' must be positive"
CONFIG_UNREADABLE = "sandbox config: cannot read {path}: {error}"
CONFIG_UNPARSABLE = "sandbox config: cannot parse {path}: {error}"
SEED_BAD = "sandbox seed: {problem}"
TLS_NEEDS_BOTH = "serving HTTPS needs both a certificate (--tls-cert) and its key (--tls-key)"
TLS_UNUSABLE = "cannot serve HTTPS with certificate {cert} and key {key}: {error}"

# faults / admin
FAULT_BAD_FIELD = "'{field}' {problem}"
FAULT_UNKNOWN_FIELD = "unknown field '{field}'"
ADMIN_BAD_JSON = "The request body must be a JSON object."
ADMIN_FAULT_NOT_FOUND = "No fault with id {id}."
BOT_MESSAGE_BAD = 'Expected {"text": non-empty string, "quickReplies": [non-empty strings]}.'
RATE_LIMIT_BAD = "'perMinute' must be a non-negative integer."

# OAuth (login host)
OAUTH_CLIENT_NOT_FOUND = "client not found"
OAUTH_AUTH_FAILED = "authentication failed"
OAUTH_UNSUPPORTED_GRANT = "grant type not supported"
OAUTH_GRANT_NOT_ALLOWED = "client is not authorized to use this grant type"
OAUTH_BAD_USER = "Invalid user credentials"
OAUTH_MISSING_GRANT = "missing grant_type"

# API errors
MISSING_PERMISSIONS = (
    "Unable to perform the requested action. You are missing the following permission(s): {perms}"
)
USER_CONTEXT_REQUIRED = "This request requires a user context. Client credentials cannot be used for requests to this resource."
NOT_FOUND_ENTITY = "{kind} not found: {id}"
BODY_NOT_JSON = "The request could not be understood by the server due to malformed syntax."
PAGE_SIZE_BAD = "Invalid value for {name}: {value}"
TOO_LARGE = "The request is over the size limit. Maximum bytes: {limit}"
CONVERSATION_ENDED = "The conversation {id} has ended."
PARTICIPANT_STATE = "Participant {pid} cannot move from {state} to {target}."
WRAPUP_NOT_ALLOWED = "Wrap-up can only be applied to a disconnected agent participant."
WRAPUP_ALREADY_APPLIED = (
    "Participant {pid} is already wrapped up (code {code}); wrap-up is applied once."
)
TRANSFER_TARGET = "A transfer needs exactly one of queueId or userId."
NOT_AN_AGENT = "Communication {cid} is not a connected agent communication of conversation {id}."
STATUS_UNKNOWN = "Invalid routing status '{status}'; expected one of {allowed}."
INTEGRATION_NAME_TAKEN = "An integration named '{name}' already exists."
SECRET_TOO_SHORT = (
    "outboundNotificationWebhookSignatureSecretToken must be longer than 15 characters"
)

# logs
LOG_WEBHOOK_FAILED = (
    "webhook delivery of message %s to integration %s failed after %d attempt(s): %s"
)
LOG_WEBHOOK_ATTEMPT = "webhook attempt %d for message %s: %s"
LOG_SERVING = "Genesys Cloud sandbox on %s"
LOG_WEBHOOK_HELD_DROPPED = (
    "webhook delivery of message %s to integration %s was held by a "
    "reorder fault and is not sent: the sandbox stopped"
)
LOG_WEBHOOK_QUEUED_DROPPED = "%d queued webhook deliveries not sent: the sandbox stopped"
LOG_WEBHOOK_ABANDONED = "webhook delivery of message %s abandoned: the sandbox stopped"
HTTP_ABORTED = "connection refused: the sandbox is stopping"
