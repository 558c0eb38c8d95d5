"""`python -m bench [NAME…] [--quick] [--no-record]`: run benchmarks, print PASS/MISS lines,
record the run in bench/results/ (and latest.json + bench/RESULTS.md after a full run of all of them)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import BENCHMARKS, benchmark, messages, report
from bench.result import Result


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(BENCHMARKS)}")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run, ~30 s)")
    p.add_argument("--no-record", action="store_true", help="print only, write no result files")
    return p.parse_args(argv)


def run(names: list[str], quick: bool) -> tuple[list[Result], dict[str, str]]:
    """Run benchmarks by name, each in its own temporary directory; (results, failures)."""
    results: list[Result] = []
    failures: dict[str, str] = {}
    for name in names:
        print(messages.RUNNING.format(name=name, quick=" (quick)" if quick else ""), flush=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"om-bench-{name}-"))
        try:
            got = benchmark(name)(workdir, quick=quick)
        except Exception as exc:
            traceback.print_exc()
            failures[name] = f"{type(exc).__name__}: {exc}"
            print(messages.FAILED.format(name=name, error=type(exc).__name__, message=exc))
            continue
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        for result in got if isinstance(got, list) else [got]:
            results.append(result)
            print(report.line(result), flush=True)
    return results, failures


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when every benchmark ran (a missed target is a result, not an error); 2 on bad
    names; 1 when a benchmark crashed."""
    args = parse(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(
            messages.UNKNOWN.format(names=", ".join(unknown), known=", ".join(BENCHMARKS)),
            file=sys.stderr,
        )
        return 2
    # An in-process sandbox (listener_capacity) logs each request and failed delivery: not a
    # benchmark's output.
    for name in ("werkzeug", "om_bridge"):
        logging.getLogger(name).setLevel(logging.ERROR)
    names = args.names or list(BENCHMARKS)
    start = time.monotonic()
    results, failures = run(names, args.quick)
    seconds = time.monotonic() - start
    print(
        messages.TOTAL.format(
            passed=sum(r.passed for r in results), count=len(results), seconds=seconds
        )
    )
    if not args.no_record:
        command = (
            "python -m bench"
            + "".join(f" {n}" for n in args.names)
            + (" --quick" if args.quick else "")
        )
        full = not args.quick and not args.names
        json_path, md_path = report.write(
            results, failures, command=command, quick=args.quick, seconds=seconds, markdown=full
        )
        print(
            messages.WROTE.format(
                json_path=json_path,
                md_note=messages.MD_NOTE.format(md_path=md_path) if md_path else "",
            )
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
