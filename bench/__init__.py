"""Benchmarks of docs/design.md §11: each measures the bridge against a baseline in the same run and
reports the value, the baseline, the ratio, the target and PASS/MISS (`python -m bench`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bench.result import Result

# name -> "module:function"; each function takes `quick: bool` and returns a `Result`.
BENCHMARKS: dict[str, str] = {
    "relay_throughput": "bench.relay_throughput:run",
    "latency_p99": "bench.latency_p99:run",
    "calls_per_message": "bench.calls_per_message:run",
    "scaling": "bench.scaling:run",
    "listener_capacity": "bench.listener_capacity:run",
    "idle_streams": "bench.connections:idle_streams",
    "slowloris": "bench.connections:slowloris",
    "redis_workers": "bench.workers:run",
}


def benchmark(name: str) -> Callable[..., Result | list[Result]]:
    """The run function of a benchmark by name; KeyError naming the known ones otherwise."""
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    module, func = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), func)


__all__ = ["BENCHMARKS", "Result", "benchmark"]
