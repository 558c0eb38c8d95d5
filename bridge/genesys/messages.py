"""All user-facing and log texts of the Genesys client, in one place so wording stays consistent."""

from __future__ import annotations


def unknown_region(host: str, accepted: list[str]) -> str:
    return (
        f"Unknown Genesys Cloud host {host!r}: expected one of the region domains "
        f"{', '.join(accepted)} (optionally with api./login./apps. prefix or https://)"
    )


def empty_host() -> str:
    return "No Genesys Cloud host configured: set a region domain such as mypurecloud.de"


def invalid_client(which: str) -> str:
    if which == "client_id":
        return "Genesys rejected the OAuth client id: client not found (check client_id)"
    return "Genesys rejected the OAuth client secret: authentication failed (check client_secret)"


def permission_denied(missing: list[str], message: str) -> str:
    if missing:
        return "Genesys denied the request: the OAuth client is missing permission(s) " + ", ".join(
            missing
        )
    return f"Genesys denied the request: {message or 'not authorized'}"


def http_error(status: int, code: str | None, message: str | None) -> str:
    text = f"Genesys answered HTTP {status}"
    if code:
        text += f" ({code})"
    if message:
        text += f": {message}"
    return text


# What a failed call met (`failures.describe_failure`): readiness and errors name it.
FAILURE_TLS_VERIFY = "TLS certificate not trusted: {reason}"
FAILURE_TLS = "TLS handshake failed"
FAILURE_DNS = "DNS lookup failed"
FAILURE_REFUSED = "connection refused"
FAILURE_TIMEOUT = "timed out"
FAILURE_CUT_OFF = "connection cut off"
FAILURE_CONNECTION = "connection failed"
FAILURE_UNEXPECTED = "unexpected error"


def connection_failed(reason: str) -> str:
    return f"Could not reach Genesys Cloud: {reason}"


def deadline_exceeded(deadline: float, attempts: int) -> str:
    return f"Gave up after {attempts} attempt(s): the {deadline:g} s retry deadline ran out"


def rate_pause_exceeds_deadline(pause: float, deadline: float) -> str:
    return (
        f"Genesys rate limit pauses the client for {pause:.1f} s, longer than the "
        f"{deadline:g} s deadline left"
    )


def integration_not_found(name: str, available: list[str]) -> str:
    names = ", ".join(repr(n) for n in available) if available else "none"
    return (
        f"No Open Messaging integration named {name!r} in this Genesys org; "
        f"existing integrations: {names}"
    )


def token_response_invalid() -> str:
    return "Genesys token endpoint answered without an access_token"


def content_required() -> str:
    return "An inbound message needs text or content (Genesys rejects a message with neither)"


def receipt_status_invalid(status: str) -> str:
    return f"Receipt status must be 'Delivered' or 'Failed', not {status!r}"


def id_type_invalid(id_type: str) -> str:
    return f"Customer idType must be Email, Phone or Opaque, not {id_type!r}"


def credentials_missing() -> str:
    return "Genesys client id and client secret are required"


def log_retry(method: str, path: str, cause: str, delay: float, attempt: int) -> str:
    return f"genesys {method} {path}: {cause}, retry {attempt} in {delay:.2f}s"


def log_rate_limited(method: str, path: str, pause: float) -> str:
    return f"genesys {method} {path}: rate limited, pausing all calls for {pause:.2f}s"


def log_token_refreshed(expires_in: float) -> str:
    return f"genesys token refreshed, valid for {expires_in:.0f}s"


def log_token_rejected(method: str, path: str) -> str:
    return f"genesys {method} {path}: token rejected (401), refreshing once"


def webhook_secret_too_short() -> str:
    return "The webhook signature secret must be longer than 15 characters (Genesys requirement)"


def response_type_invalid(value: str) -> str:
    return f"Structured response type must be Button, QuickReply or DatePicker, not {value!r}"


def time_invalid(value: object) -> str:
    return f"Message time must be a datetime or an ISO-8601 string, not {value!r}"


def integration_field_unknown(name: str, known: list[str]) -> str:
    return f"Unknown integration field {name!r}; known fields: {', '.join(known)}"


def required_value(name: str) -> str:
    return f"{name} is required"


def bulk_size(count: int, limit: int) -> str:
    return f"a bulk message read takes 1 to {limit} message ids, not {count}"
