"""Child processes of a benchmark (gunicorn servers, the load generator) and what /proc says
about them: CPU time and resident memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import requests

from om_bridge.bridge.serve import GUNICORN_DEFAULTS

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]  # child processes import `bench` and `bridge` from here
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# The gunicorn settings `om-bridge serve` uses (bridge/serve.py), taken from it for the baseline
# so both servers run under the same settings: one worker, serve's gevent worker class.
THREADS = 16  # only used by a gthread worker class
GUNICORN_OPTIONS = {**GUNICORN_DEFAULTS, "threads": THREADS}


def free_port() -> int:
    """A free TCP port on the loopback address."""
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.01
) -> None:
    """Poll `predicate` until true; RuntimeError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_http(url: str, timeout: float = 30.0, proc: Server | None = None) -> None:
    """Wait until `url` answers 200 (fails early when `proc` exited)."""

    def up() -> bool:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(
                f"{proc.name} exited with {proc.popen.returncode}; see {proc.log_path}"
            )
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, timeout, url, interval=0.05)


class Server:
    """A server process (gunicorn master with its one worker) started in its own process group."""

    def __init__(
        self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name, self.log_path = name, log_path
        self._log: IO[bytes] = open(log_path, "wb")
        self.popen = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )

    def worker_pid(self) -> int:
        """The gunicorn worker (the master's child) — where the app and its threads live."""

        def found() -> bool:
            return bool(_children(self.popen.pid))

        wait_until(found, 15, f"{self.name}'s gunicorn worker")
        return _children(self.popen.pid)[0]

    def worker_pids(self) -> list[int]:
        """Every gunicorn worker (the master's children) running now."""
        return _children(self.popen.pid)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(5)
        self._log.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_seconds(pid: int) -> float:
    """Seconds all threads of a process have run on a CPU, to the nanosecond (the scheduler's
    `/proc/PID/task/*/schedstat`), where `cpu_seconds` counts 10 ms ticks."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def rss_bytes(pid: int) -> int:
    """Resident set size of a process in bytes."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def python_argv(module: str, *args: str) -> list[str]:
    """`python -m module args…` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def om_bridge_argv(*args: str) -> list[str]:
    """The `om-bridge` console script next to this interpreter (falls back to `-m bridge.cli`)."""
    script = Path(sys.executable).with_name("om-bridge")
    if script.exists():
        return [str(script), *args]
    code = "import sys; from bridge.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


def open_fds(pid: int) -> int:
    """File descriptors a process has open (its sockets among them)."""
    return len(os.listdir(f"/proc/{pid}/fd"))
