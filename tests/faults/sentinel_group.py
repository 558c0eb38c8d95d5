"""A real Redis Sentinel group on free loopback ports: one master, its replicas and three
Sentinels (redis-server and redis-sentinel processes), for the failover test."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port, wait_until

HOST = "127.0.0.1"
SERVICE = "om-test"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
# A master that does not answer for this long is down for a Sentinel (Redis' default is 30 s).
DOWN_AFTER_MS = 1000


class SentinelGroup:
    """`replicas` replicas of one master, watched by three Sentinels with quorum 2."""

    def __init__(self, workdir: Path, replicas: int = 2) -> None:
        for binary, package in ((REDIS_SERVER, "redis-server"), (REDIS_SENTINEL, "redis-sentinel")):
            if not Path(binary).exists():
                pytest.skip(f"{binary} is not installed (Debian package {package})")
        self.workdir = workdir
        self.procs: dict[int, subprocess.Popen] = {}
        self.master_port = free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.sentinel_ports = [free_port() for _ in range(3)]
        try:
            self._server(self.master_port)
            for port in self.replica_ports:
                self._server(port, "--replicaof", HOST, str(self.master_port))
            for port in self.sentinel_ports:
                self._sentinel(port)
            self.wait_ready()
        except BaseException:
            self.close()
            raise

    def url(self, *options: str) -> str:
        """The store URL naming the three Sentinels and the service (database 0)."""
        hosts = ",".join(f"{HOST}:{p}" for p in self.sentinel_ports)
        query = "?" + "&".join(options) if options else ""
        return f"redis+sentinel://{hosts}/{SERVICE}/0{query}"

    def _log(self, port: int) -> Path:
        return self.workdir / f"redis-{port}.log"

    def _server(self, port: int, *more: str) -> None:
        folder = self.workdir / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--logfile",
                str(self._log(port)),
                *more,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _sentinel(self, port: int) -> None:
        folder = self.workdir / f"sentinel-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "sentinel.conf"  # Sentinel rewrites its file: one each, writable
        conf.write_text(
            "\n".join(
                [
                    f"port {port}",
                    f"bind {HOST}",
                    f"dir {folder}",
                    f"logfile {self._log(port)}",
                    f"sentinel monitor {SERVICE} {HOST} {self.master_port} 2",
                    f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}",
                    f"sentinel failover-timeout {SERVICE} 10000",
                    f"sentinel parallel-syncs {SERVICE} 2",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.procs[port] = subprocess.Popen(
            [REDIS_SENTINEL, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=2)

    def ask(self, port: int, *command: str) -> object:
        client = self.client(port)
        try:
            return client.execute_command(*command)
        except redis.RedisError:
            return None
        finally:
            client.close()

    def wait_ready(self) -> None:
        """Every replica in sync and every Sentinel knowing the master, its replicas and the two
        other Sentinels (without that, no failover can be authorised)."""

        def synced() -> bool:
            info = self.ask(self.master_port, "INFO", "replication")
            return isinstance(info, dict) and info.get("connected_slaves") == len(
                self.replica_ports
            )

        wait_until(synced, 30, interval=0.1, what="the replicas in sync")

        def known(port: int) -> bool:
            replicas = self.ask(port, "SENTINEL", "REPLICAS", SERVICE)
            others = self.ask(port, "SENTINEL", "SENTINELS", SERVICE)
            return (
                isinstance(replicas, list)
                and len(replicas) == len(self.replica_ports)
                and isinstance(others, list)
                and len(others) == 2
            )

        for port in self.sentinel_ports:
            wait_until(lambda p=port: known(p), 60, interval=0.2, what="the Sentinels acquainted")

    def master(self) -> int | None:
        """The port of the master the Sentinels name now (the first that answers)."""
        for port in self.sentinel_ports:
            found = self.ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
            if isinstance(found, list) and len(found) == 2:
                return int(found[1])
        return None

    def kill_master(self) -> tuple[int, float]:
        """SIGKILL the master; its port and the monotonic time of the kill."""
        port = self.master_port
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return port, time.monotonic()

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()
