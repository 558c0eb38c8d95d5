"""One table decides what is retried: the client's in-call retries and the outbox agree on every
status (what the client retries in the call, the outbox retries too; what the outbox dead-letters,
the client never retries)."""

from __future__ import annotations

import pytest
import requests

from om_bridge.bridge.genesys.errors import (
    DeadlineExceededError,
    GenesysConnectionError,
    error_from_response,
)
from om_bridge.bridge.genesys.retry import Retry, RetryPolicy, retry_of


def _error(status: int):  # type: ignore[no-untyped-def]
    response = requests.Response()
    response.status_code = status
    response._content = b'{"code": "x", "message": "m"}'
    return error_from_response(response, "POST", "/api/v2/x")


@pytest.mark.parametrize("status", range(400, 600))
def test_in_call_retries_and_the_outbox_agree(status: int) -> None:
    error = _error(status)
    in_call = RetryPolicy().handler_for(error) is not None
    decision = retry_of(error)
    assert in_call == (decision is Retry.NOW)
    # The outbox dead-letters exactly the NEVER decisions (other 4xx).
    expected_never = status < 500 and status not in (408, 429)
    assert (decision is Retry.NEVER) == expected_never


def test_connection_and_deadline_errors() -> None:
    assert retry_of(GenesysConnectionError("reset")) is Retry.NOW
    assert RetryPolicy().handler_for(GenesysConnectionError("reset")) is not None
    deadline = DeadlineExceededError(30.0, 6, None)
    assert retry_of(deadline) is Retry.LATER
    assert RetryPolicy().handler_for(deadline) is None
