"""`om-bridge` as a process at its edges: output to a reader that has gone, and Ctrl-C with a
webchat's SSE stream open (no traceback, no error about the closed store)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import tomli_w

from om_bridge.bridge.demo import demo_config, demo_environ
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
SIGPIPE_STATUS = 128 + signal.SIGPIPE


def _om_bridge(*args: str) -> list[str]:
    return [sys.executable, "-m", "om_bridge", *args]


# argparse ignores a failed write of --help / --version text, so those end with 0.
@pytest.mark.parametrize(
    ("args", "statuses"),
    [
        (("extension", "export"), {SIGPIPE_STATUS}),
        (("serve", "--help"), {0, SIGPIPE_STATUS}),
        (("--version",), {0, SIGPIPE_STATUS}),
    ],
)
def test_output_to_a_closed_pipe_ends_quietly(args, statuses):
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        _om_bridge(*args), cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True
    )
    os.close(write_end)
    os.close(read_end)  # the reader has gone before the command writes anything
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode in statuses, err
    assert err == ""


def test_export_piped_into_head():
    done = subprocess.run(
        [
            "bash",
            "-c",
            'set -o pipefail; "$@" | head -1',
            "bash",
            *_om_bridge("extension", "export"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "[\n"
    assert done.returncode in (0, SIGPIPE_STATUS), done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def _stop_with_ctrl_c(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return proc.returncode, err


def _open_sse_stream(base: str) -> requests.Response:
    """A webchat's event stream, read up to its first frame (so the server thread is in it)."""
    resp = requests.get(
        f"{base}/endpoint/demo/sessions/s-ctrl-c/events",
        params={"userId": "u-ctrl-c"},
        stream=True,
        timeout=30,
    )
    assert resp.status_code == 200
    assert next(resp.iter_lines()).startswith(b"retry:")
    return resp


def _assert_clean_stop(code: int, expected: int, err: str) -> None:
    assert code == expected, err
    assert "Traceback" not in err, err
    assert "is closed" not in err, err
    assert " ERROR " not in err, err


def test_ctrl_c_of_the_demo_with_a_webchat_stream_open(tmp_path):
    port, sandbox_port = free_port(), free_port()
    proc = subprocess.Popen(
        _om_bridge(
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--data-dir",
            str(tmp_path / "data"),
        ),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    stream = None
    try:
        wait_for_http(f"{base}/readyz", timeout=60)
        assert requests.get(f"{base}/readyz", timeout=30).status_code == 200
        stream = _open_sse_stream(base)
    finally:
        code, err = _stop_with_ctrl_c(proc)
        if stream is not None:
            stream.close()
    _assert_clean_stop(code, 0, err)


def test_ctrl_c_of_serve_dev_with_a_webchat_stream_open(tmp_path):
    port = free_port()
    with SandboxServer() as sandbox:
        config = demo_config(f"http://127.0.0.1:{port}", sandbox.url, tmp_path / "data")
        path = tmp_path / "om-bridge.toml"
        path.write_text(tomli_w.dumps(config))
        proc = subprocess.Popen(
            _om_bridge("serve", "--dev", "--config", str(path), "--port", str(port)),
            cwd=tmp_path,
            env={**os.environ, **demo_environ()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        stream = None
        try:
            wait_for_http(f"{base}/readyz", timeout=60)
            stream = _open_sse_stream(base)
        finally:
            code, err = _stop_with_ctrl_c(proc)
            if stream is not None:
                stream.close()
    _assert_clean_stop(code, 0, err)
