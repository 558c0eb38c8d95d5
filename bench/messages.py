"""Texts `python -m bench` prints and writes (one place, so wording stays consistent)."""

RUNNING = "== {name}{quick} …"
LINE = (
    "{status:4}  {name:<20} {value} {unit} (baseline {baseline}, ratio {ratio}; "
    "target {target_text})"
)
FAILED = "FAIL  {name:<20} raised {error}: {message}"
WROTE = "results: {json_path}{md_note}"
MD_NOTE = " and {md_path}"
UNKNOWN = "unknown benchmark(s): {names}; known: {known}"
TOTAL = "{passed}/{count} targets met in {seconds:.0f} s"

RESULTS_HEADER = """# Benchmark results

Latest full run of `python -m bench` (docs/design.md §11). Each benchmark measures the bridge against
a baseline in the same run on the same machine; this run's JSON is
`bench/results/latest.json`. Re-run with `make bench` (or `.venv/bin/python -m bench [NAME…] [--quick]`).

- Command: `{command}`
- When: {when}
- Machine: {machine}
- Wall time: {seconds:.0f} s
"""
