"""The fault suite's fixtures: `https` (the suite runs over HTTPS with verification on: the test
CA's certificate, its bundle trusted by the bridges and by the test's own calls) and a private
redis-server for the two-bridge case (started here, stopped after)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port, wait_until
from tests.tlsca import TLSFiles


@pytest.fixture
def https(tls: TLSFiles, ca_bundle_env: str) -> TLSFiles:
    """The certificate the sandbox serves; REQUESTS_CA_BUNDLE names its CA for this test."""
    return tls


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(up, timeout=10, what="redis-server PING")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
