"""Recording runs: one JSON file per run in `bench/results/` (git-ignored), and after a full run
`bench/results/latest.json` and `bench/RESULTS.md` with its numbers, the command and the machine (the
two files the repository keeps)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench import messages
from bench.result import Result

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
# The one run the repository keeps; every run's own file is git-ignored.
LATEST = "latest.json"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        mem = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": mem,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def fmt(value: float | None) -> str:
    """A number for a report line."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def target_text(r: Result) -> str:
    what = "ratio" if r.target_on == "ratio" else "value"
    return f"{what} {r.compare} {fmt(r.target)}"


def line(r: Result) -> str:
    """One printed summary line."""
    return messages.LINE.format(
        status="PASS" if r.passed else "MISS",
        name=r.name,
        value=fmt(r.value),
        unit=r.unit,
        baseline=fmt(r.baseline),
        ratio=fmt(r.ratio),
        target_text=target_text(r),
    )


def write(
    results: list[Result],
    failures: dict[str, str],
    *,
    command: str,
    quick: bool,
    seconds: float,
    markdown: bool,
) -> tuple[Path, Path | None]:
    """Write the run's JSON (always) and, for full runs of every benchmark, latest.json and
    RESULTS.md."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    run = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command,
        "quick": quick,
        "seconds": round(seconds, 1),
        "machine": machine(),
        "results": [r.to_dict() for r in results],
        "failures": failures,
    }
    json_path = RESULTS_DIR / f"{stamp}{'-quick' if quick else ''}.json"
    json_path.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    if not markdown:
        return json_path, None
    latest = RESULTS_DIR / LATEST
    latest.write_text(json_path.read_text(encoding="utf-8"), encoding="utf-8")
    RESULTS_MD.write_text(render_markdown(run, latest.name), encoding="utf-8")
    return json_path, RESULTS_MD


def render_markdown(run: dict, json_name: str) -> str:
    """RESULTS.md for one run."""
    m = run["machine"]
    text = messages.RESULTS_HEADER.format(
        command=run["command"],
        when=run["when"],
        seconds=run["seconds"],
        machine=f"{m['cpu']}, {m['cores']} cores, {m['memory_mb']} MB, Python {m['python']}, "
        f"{m['system']}",
    )
    rows = [
        "| Benchmark | Measured | Baseline | Ratio | Target | Status |",
        "|---|---|---|---|---|---|",
    ]
    for d in run["results"]:
        what = "ratio" if d["target_on"] == "ratio" else "value"
        rows.append(
            f"| {d['name']} ({d['metric']}) | {fmt(d['value'])} {d['unit']} | "
            f"{fmt(d['baseline'])} | {fmt(d['ratio'])} | {what} {d['compare']} "
            f"{fmt(d['target'])} | **{d['status']}** |"
        )
    for name, error in run["failures"].items():
        rows.append(f"| {name} | – | – | – | – | **FAIL**: {error} |")
    details = ["", "## Details", ""]
    for d in run["results"]:
        details.append(f"### {d['name']}\n\n```json\n{json.dumps(d['details'], indent=2)}\n```\n")
    return (
        text
        + "\n"
        + "\n".join(rows)
        + "\n"
        + "\n".join(details)
        + f"\nRaw results: `bench/results/{json_name}`.\n"
    )
