"""Log redaction: known secrets and Authorization credentials never reach the output."""

from __future__ import annotations

import io
import logging
import re

import pytest

from om_bridge.bridge.logs import RedactingFilter, request_id_var, setup_logging


@pytest.fixture
def captured():
    stream = io.StringIO()
    setup_logging("DEBUG", ["bridge-secret-0123456789", "demo-webhook-secret"], stream=stream)
    yield stream
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_om_bridge", False)]:
        root.removeHandler(h)


def test_text_lines_start_with_an_iso_8601_time(captured):
    logging.getLogger("bridge.test").info("hello")
    line = captured.getvalue().splitlines()[-1]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO bridge.test ", line), line


def test_known_secret_values_are_masked(captured):
    logging.getLogger("bridge.test").warning(
        "token call failed for secret %s", "bridge-secret-0123456789"
    )
    out = captured.getvalue()
    assert "bridge-secret-0123456789" not in out
    assert "token call failed for secret ***" in out


def test_bearer_and_basic_credentials_are_masked(captured):
    log = logging.getLogger("bridge.test")
    log.info("sent Authorization: Bearer eyJhbGciOi.J9.abc-def_123")
    log.info("sent Authorization: Basic YnJpZGdlLWNsaWVudDpzZWNyZXQ=")
    out = captured.getvalue()
    assert "eyJhbGciOi" not in out and "YnJpZGdl" not in out
    assert "Bearer ***" in out and "Basic ***" in out


def test_secret_in_exception_traceback_is_masked(captured):
    try:
        raise RuntimeError("login refused for demo-webhook-secret")
    except RuntimeError:
        logging.getLogger("bridge.test").exception("failure")
    out = captured.getvalue()
    assert "RuntimeError" in out
    assert "demo-webhook-secret" not in out


def test_request_id_is_in_every_line(captured):
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("bridge.test").info("handled")
    finally:
        request_id_var.reset(token)
    assert "[req-42] handled" in captured.getvalue()


def test_short_values_are_not_treated_as_secrets():
    f = RedactingFilter(["ab", "longer-secret"])
    assert f.redact("ab longer-secret") == "ab ***"
