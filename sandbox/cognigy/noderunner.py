"""`NodeRunner`: one long-lived Node.js process running a built extension's node functions."""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import subprocess
import tarfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
RUNNER_JS = Path(__file__).resolve().parent / "static" / "runner.js"
# Cognigy stops a node after 20 s; the runner does too, so this only guards a dead process.
CALL_TIMEOUT = 30.0


class NodeRunnerError(RuntimeError):
    """The runner could not start, died, or a node function failed (the message says which)."""


def extract_extension(archive: str | Path, target: str | Path) -> Path:
    """Unpack an extension archive (`om-bridge extension build`) into `target`; returns it."""
    out = Path(target)
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(out, filter="data")
    if not (out / "build" / "module.js").is_file():
        raise NodeRunnerError(f"{archive} has no build/module.js")
    return out


class NodeRunner:
    """Starts `node runner.js <dir>` and sends it node calls; thread-safe, calls may overlap."""

    def __init__(self, extension_dir: str | Path, node: str | None = None) -> None:
        binary = node or shutil.which("node")
        if binary is None:
            raise NodeRunnerError("Node.js (node) is not installed: the extension cannot run")
        self._proc = subprocess.Popen(
            [binary, str(RUNNER_JS), str(Path(extension_dir).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        try:
            hello = json.loads(first)
        except ValueError:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            self._proc.kill()
            raise NodeRunnerError(
                f"the extension module did not load: {err.strip()[-2000:]}"
            ) from None
        self.descriptors: list[dict[str, Any]] = hello["descriptors"]
        self.connections: list[dict[str, Any]] = hello.get("connections") or []
        self._reader = threading.Thread(target=self._read, name="cognigy-node-runner", daemon=True)
        self._reader.start()
        self._stderr = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                log.warning("extension runner wrote a non-JSON line")
                continue
            with self._lock:
                future = self._pending.pop(answer.get("id"), None)
            if future is not None:
                future.set_result(answer)
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for future in pending:
            future.set_exception(NodeRunnerError("the extension runner stopped"))

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            log.info("extension runner: %s", line.rstrip())

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one node function; returns {outputs, context, profile, next, stop, logs} or raises
        NodeRunnerError with the function's error."""
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            call_id = next(self._ids)
            self._pending[call_id] = future
        line = json.dumps({**request, "id": call_id}, ensure_ascii=False)
        try:
            with self._write_lock:
                assert self._proc.stdin is not None
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            with self._lock:
                self._pending.pop(call_id, None)
            raise NodeRunnerError("the extension runner is not running") from None
        answer = future.result(CALL_TIMEOUT)
        if answer.get("error"):
            raise NodeRunnerError(str(answer["error"]))
        return answer

    def close(self) -> None:
        """Stop the Node.js process."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(5)
        self._reader.join(5)
