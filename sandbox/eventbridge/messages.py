"""Log and error texts of the sandbox's outbound end-detection deliveries (EventBridge API
destination and Web Services Data Actions)."""

LOG_CRASHED = "%s delivery crashed"
LOG_SEND_FAILED = "%s delivery %s to %s failed: %s"
LOG_NOT_RETRIED = "%s delivery %s not retried (status %s)"
LOG_GAVE_UP = "%s delivery %s dropped after %d attempts"

ADMIN_BAD_JSON = "The body must be a JSON object with the [{section}] keys."
CONFIG_BAD_AUTH_TYPE = "{section}.auth.type must be one of {allowed}, got {value!r}"
CONFIG_AUTH_MISSING = "{section}.auth.{key} is required when auth.type is {type!r}"
CONFIG_BAD_URL = "{section}.url must be an http(s) URL, got {value!r}"
CONFIG_BAD_TOPIC = (
    "{section}.topics: {value!r} is not a conversation detail topic pattern like "
    "v2.detail.events.conversation.{{id}}.customer.end"
)
CONFIG_BAD_SUFFIX = "{section}.source_suffix must be 1-64 letters, digits, '.', '-' or '_'"
CONFIG_BAD_ACCOUNT = "{section}.account must be 12 digits"
CONFIG_BAD_BODY = "{section}.body must be 'cognigy' or 'detail', got {value!r}"
CONFIG_BAD_MATCH = "{section}.match must be a table of event field -> string value"
