"""Smoke test of the benchmarks: each runs in its tiny `--quick` configuration against real
servers and produces a well-formed result. Never a timing threshold: PASS or MISS are both fine."""

from __future__ import annotations

import json
import math

import pytest

from bench import BENCHMARKS, Result, benchmark
from bench.__main__ import main
from bench.report import render_markdown

pytestmark = pytest.mark.slow


def _results(name: str, tmp_path) -> list[Result]:  # type: ignore[no-untyped-def]
    got = benchmark(name)(tmp_path, quick=True)
    results = got if isinstance(got, list) else [got]
    assert results, f"{name} returned no result"
    for r in results:
        d = r.to_dict()
        json.dumps(d)  # JSON-ready
        assert d["status"] in ("PASS", "MISS")
        assert math.isfinite(r.value) and math.isfinite(r.target)
        assert r.unit and r.metric and r.details
        if r.baseline is not None:
            assert r.baseline > 0 and math.isclose(d["ratio"], r.value / r.baseline)
    return results


def test_relay_throughput_interleaves_bare_floor_and_bridge(tmp_path):
    bare, floor = _results("relay_throughput", tmp_path)
    assert bare.name == "relay_throughput" and floor.name == "relay_vs_floor"
    d = bare.details
    for statuses in d["statuses"]:
        assert statuses["bare"] == {200: d["requests_per_round"]}
        assert statuses["floor"] == {200: d["requests_per_round"]}
        assert statuses["bridge"] == {200: d["requests_per_round"]}
    assert len(d["msg_per_s"]["floor"]["rounds"]) == d["rounds"]
    # the sandbox made every message, so every receipt is answered 2xx
    assert d["receipts_2xx"] == {
        "floor": [d["requests_per_round"]] * d["rounds"],
        "bridge": [d["requests_per_round"]] * d["rounds"],
    }
    # the sandbox runs in its own process and its CPU is reported apart
    assert d["sandbox_cpu_s"]["whole_benchmark"] > 0
    assert len(d["sandbox_cpu_s"]["bridge"]) == d["rounds"]
    assert bare.value == floor.value > 0 and bare.target_on == floor.target_on == "ratio"


def test_idle_streams_interleave_rounds_with_streams_and_polls(tmp_path):
    p99, memory = _results("idle_streams", tmp_path)
    d = p99.details
    assert d["rounds"] >= 2
    # one holder process throughout: only the idle streams and long-polls differ between the sides
    held = {"sse": d["sse_streams"], "polls": d["long_polls"]}
    assert d["held_per_run"] == {
        "with": [held] * d["rounds"],
        "without": [{"sse": 0, "polls": 0}] * d["rounds"],
    }
    # without, with / with, without: opened once, closed once and let go by the bridge
    assert len(d["open_s"]) == 1 and len(d["release_s"]) == 1
    assert d["holder"]["server_closed_sse"] == 0
    for kind in ("without", "with"):
        assert len(d["p99_ms"][kind]["rounds"]) == d["rounds"]
        assert d["statuses"][kind] == {200: d["rounds"] * d["rate"] * d["seconds_per_run"]}
        # /healthz probed through every run, on both sides
        assert all(probe["sent"] > 0 for probe in d["healthz_probes"][kind])
    assert d["healthz_answered"] is True
    assert math.isclose(p99.value, d["p99_ms"]["with"]["median"], abs_tol=0.01)
    assert math.isclose(p99.baseline, d["p99_ms"]["without"]["median"], abs_tol=0.01)
    assert memory.unit == "KB" and memory.value >= 0
    assert len(memory.details["rss_growth_kb_per_stream"]) == 1


def test_slowloris_interleaves_rounds_with_16_slow_connections(tmp_path):
    [slow] = _results("slowloris", tmp_path)
    d = slow.details
    assert d["rounds"] >= 2
    # one holder process throughout: only the slow connections differ between the sides
    assert d["slow_held_per_run"] == {"with": [16] * d["rounds"], "without": [0] * d["rounds"]}
    for kind in ("without", "with"):
        assert len(d["p99_ms"][kind]["rounds"]) == d["rounds"]
        assert d["statuses"][kind] == {200: d["rounds"] * d["rate"] * d["seconds_per_run"]}
    # the value and baseline are the medians of the rounds' p99s
    assert math.isclose(slow.value, d["p99_ms"]["with"]["median"], abs_tol=0.01)
    assert math.isclose(slow.baseline, d["p99_ms"]["without"]["median"], abs_tol=0.01)
    # the worker's CPU with only the slow connections open, against idle: two windows each
    idle = d["idle_worker_cpu"]["worker_cpu_ms_per_s"]
    assert len(idle["without"]) == len(idle["with"]) == 2
    assert all(v >= 0 for v in idle["without"] + idle["with"])


@pytest.mark.redis
def test_redis_workers_reports_wakeups_and_both_throughputs(tmp_path):
    wake, throughput = _results("redis_workers", tmp_path)
    assert wake.details["webhooks"] > 0 and wake.value > 0
    assert set(throughput.details["msg_per_s"]) == {"1", "2"}


def test_latency_p99_compares_the_bridge_with_bare_and_the_floor(tmp_path):
    r, vs_floor = _results("latency_p99", tmp_path)
    assert r.name == "latency_p99" and vs_floor.name == "latency_p99_vs_floor"
    d = r.details
    assert d["bridge_statuses"] == {200: d["requests"]}
    assert d["floor_statuses"] == {200: d["requests"]}
    assert d["relayed_outputs_matched"] == d["requests"]
    assert d["receipts_2xx"] == d["floor_receipts_2xx"] == d["requests"]
    assert d["sandbox_cpu_s"]["whole_benchmark"] > 0
    assert math.isclose(r.value, d["bridge_p99_ms"] - r.baseline, abs_tol=1e-2)
    # the same bridge-added p99, divided by the floor's added p99 (at least the resolution)
    f = vs_floor.details
    assert vs_floor.value == r.value and vs_floor.target_on == "ratio"
    assert math.isclose(f["floor_added_p99_ms"], f["floor_p99_ms"] - f["bare_p99_ms"], abs_tol=1e-2)
    counted = max(f["floor_added_p99_ms"], f["floor_added_counted_as_at_least_ms"])
    assert math.isclose(vs_floor.baseline, counted, abs_tol=1e-2)


def test_calls_per_message_counts_calls_at_the_sandbox(tmp_path):
    [r] = _results("calls_per_message", tmp_path)
    d = r.details
    assert sum(d["calls_by_route"].values()) == round(r.value * d["user_messages"])
    assert any(route.endswith("/inbound/open/message") for route in d["calls_by_route"])


def test_scaling_reports_cost_and_memory(tmp_path):
    cost, memory = _results("scaling", tmp_path)
    assert cost.name == "scaling" and memory.name == "memory_per_handover"
    d = cost.details
    assert d["large"]["open_handovers"] > d["small_before"]["open_handovers"]
    assert d["small_after"]["open_handovers"] == d["small_before"]["open_handovers"]
    assert memory.details["idle_handovers"] > 0


def test_listener_capacity_against_genesys_limits(tmp_path):
    [r] = _results("listener_capacity", tmp_path)
    d = r.details
    assert d["sandbox_limits"] == {"max_topics": 1000, "max_channels": 20}
    assert d["tracked"] + d["refused"] == d["conversations"]
    assert isinstance(d["end_detected"], bool)


def test_every_benchmark_is_covered():
    names = {n.removeprefix("test_").split("_")[0] for n in globals() if n.startswith("test_")}
    assert {b.split("_")[0] for b in BENCHMARKS} <= names


def test_result_verdicts():
    ratio = Result("x", "m", "u", 80.0, 100.0, 0.7, ">=", "ratio")
    assert ratio.passed and math.isclose(ratio.ratio, 0.8)
    assert not Result("x", "m", "u", 60.0, 100.0, 0.7, ">=", "ratio").passed
    assert Result("x", "m", "u", 1.0, None, 1.0, "==").passed
    assert not Result("x", "m", "u", 1.25, None, 1.0, "==").passed
    assert not Result("x", "m", "u", float("nan"), None, 5.0, "<=").passed


def test_markdown_names_command_machine_and_status():
    r = Result("relay_throughput", "m", "msg/s", 80.0, 100.0, 0.7, ">=", "ratio", {"k": 1})
    run = {
        "when": "now",
        "command": "python -m bench",
        "seconds": 1.0,
        "machine": {"cpu": "cpu", "cores": 2, "memory_mb": 1, "python": "3.11", "system": "linux"},
        "results": [r.to_dict()],
        "failures": {"scaling": "RuntimeError: x"},
    }
    text = render_markdown(run, "x.json")
    assert "`python -m bench`" in text and "2 cores" in text
    assert "**PASS**" in text and "**FAIL**" in text


def test_unknown_benchmark_name_is_refused(capsys):
    assert main(["no_such_bench", "--no-record"]) == 2
    assert "no_such_bench" in capsys.readouterr().err
