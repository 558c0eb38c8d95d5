"""`Result`: one benchmark's measured value against its baseline and target."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Comparator = Literal[">=", "<=", "=="]


@dataclass
class Result:
    """What one benchmark reports: the measured value, the baseline, their ratio, the target.

    `compare` says how `value` (or `ratio`, when `target_on` is "ratio") must relate to `target`.
    """

    name: str
    metric: str
    unit: str
    value: float
    baseline: float | None
    target: float
    compare: Comparator
    target_on: Literal["value", "ratio"] = "value"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """value / baseline (None without a usable baseline)."""
        if self.baseline in (None, 0) or not math.isfinite(self.value):
            return None
        return self.value / self.baseline  # type: ignore[operator]

    @property
    def passed(self) -> bool:
        """Whether the target is met."""
        got = self.ratio if self.target_on == "ratio" else self.value
        if got is None or not math.isfinite(got):
            return False
        if self.compare == ">=":
            return got >= self.target
        if self.compare == "<=":
            return got <= self.target
        return math.isclose(got, self.target, rel_tol=1e-9, abs_tol=1e-9)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict including the ratio and the verdict."""
        d = asdict(self)
        d["ratio"] = self.ratio
        d["status"] = "PASS" if self.passed else "MISS"
        return d
