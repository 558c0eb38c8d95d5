"""The step model of `om-bridge check`: one result per checked setup step, and its rendering."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Final

from om_bridge.bridge.setup import messages

PASS: Final = "PASS"
FAIL: Final = "FAIL"
WARN: Final = "WARN"
STATUSES: Final = (PASS, FAIL, WARN)


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one setup step for one provider; `fix` and `seed_step` say what to change."""

    provider: str
    step: str
    status: str
    detail: str
    fix: str | None = None
    seed_step: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    def to_dict(self) -> dict:
        """The `--json` object: provider, step, status, detail, fix, seed_step."""
        return asdict(self)


class StepLog:
    """Collects the results of one provider's steps in order."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.results: list[StepResult] = []

    def add(
        self,
        step: str,
        status: str,
        detail: str,
        fix: str | None = None,
        seed_step: str | None = None,
    ) -> StepResult:
        """Record one step; a PASS carries no fix."""
        result = StepResult(
            self.provider,
            step,
            status,
            detail,
            None if status == PASS else fix,
            None if status == PASS else seed_step,
        )
        self.results.append(result)
        return result

    def passed(self, step: str, detail: str) -> StepResult:
        return self.add(step, PASS, detail)

    def failed(self, step: str, detail: str, fix: str, seed_step: str) -> StepResult:
        """A FAIL always says what to change and in which setup step."""
        return self.add(step, FAIL, detail, fix, seed_step)

    def warned(self, step: str, detail: str, fix: str | None, seed_step: str | None) -> StepResult:
        return self.add(step, WARN, detail, fix, seed_step)


def exit_status(results: Iterable[StepResult]) -> int:
    """0 when no step failed, else 1."""
    return 1 if any(r.status == FAIL for r in results) else 0


def render_text(groups: list[tuple[str, list[StepResult]]]) -> str:
    """Human output: per provider a header, one line per step, an indented fix, then a summary."""
    lines: list[str] = []
    everything: list[StepResult] = []
    for header, results in groups:
        if lines:
            lines.append("")
        lines.append(header)
        for r in results:
            lines.append(f"{r.status:<4}  {r.step}  — {r.detail}")
            if r.status != PASS and r.fix:
                lines.append(f"      {messages.FIX_PREFIX}{_with_seed(r)}")
        everything.extend(results)
    counts = {s: sum(1 for r in everything if r.status == s) for s in STATUSES}
    lines.append("")
    lines.append(
        messages.SUMMARY.format(passed=counts[PASS], failed=counts[FAIL], warned=counts[WARN])
    )
    return "\n".join(lines)


def _with_seed(r: StepResult) -> str:
    """The fix, naming its setup step unless the text already does."""
    if not r.fix or not r.seed_step or f'"{r.seed_step}"' in r.fix:
        return r.fix or ""
    return f"{r.fix} {messages.seed(r.seed_step)}"


def render_json(results: Iterable[StepResult]) -> str:
    """Machine output: a JSON list of step objects."""
    return json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False)
