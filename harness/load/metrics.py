"""Mergeable figures for load runs: a log-bucketed histogram and a mergeable tally.

:class:`Histogram` keeps counts in fixed, log-spaced buckets (each 2 % wide, so a
percentile is within about 1 % of the exact sample), plus the exact count, sum, min and
max. Two histograms of the same kind merge by adding counts, so percentiles over several
Locust workers (or several steps) are exact up to the bucket width, never an average of
percentiles. ``minus`` gives the window between two snapshots of one growing histogram.

:class:`Tally` is a dataclass base whose fields merge by type (numbers add, ``Counter`` s
add, histograms merge, ``str | None`` keeps the first set value) and round-trip through
JSON (``to_dict`` / ``from_dict``): a scenario's measurements, sent from a worker to the
master with Locust's ``report_to_master`` event.

No Locust import here: the report and the tests use it from ordinary processes.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Self

GROWTH = 1.02  # bucket i covers [FLOOR * GROWTH**i, FLOOR * GROWTH**(i+1))
FLOOR = 1e-6  # values at or below this (seconds: 1 µs) fall in the zero bucket
_LOG_GROWTH = math.log(GROWTH)
ZERO = -1  # the zero bucket's index


def bucket_of(value: float) -> int:
    if value <= FLOOR:
        return ZERO
    return int(math.log(value / FLOOR) / _LOG_GROWTH)


def bucket_value(index: int) -> float:
    """The bucket's representative value (its geometric middle)."""
    if index == ZERO:
        return 0.0
    return FLOOR * GROWTH ** (index + 0.5)


class Histogram:
    """Counts of values (seconds, by convention) in log-spaced buckets; mergeable."""

    __slots__ = ("buckets", "count", "total", "low", "high")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.low: float | None = None  # exact min and max of what was recorded
        self.high: float | None = None

    def record(self, value: float) -> None:
        i = bucket_of(value)
        self.buckets[i] = self.buckets.get(i, 0) + 1
        self.count += 1
        self.total += value
        if self.high is None or value > self.high:
            self.high = value
        if self.low is None or value < self.low:
            self.low = value

    def extend(self, values: Iterable[float]) -> Histogram:
        for v in values:
            self.record(v)
        return self

    def merge(self, other: Histogram) -> Histogram:
        """Add ``other``'s counts to this histogram (in place); returns self."""
        for i, n in other.buckets.items():
            self.buckets[i] = self.buckets.get(i, 0) + n
        self.count += other.count
        self.total += other.total
        for v in (other.low, other.high):
            if v is not None:
                self.low = v if self.low is None else min(self.low, v)
                self.high = v if self.high is None else max(self.high, v)
        return self

    def minus(self, earlier: Histogram) -> Histogram:
        """What was recorded since ``earlier`` (a snapshot of this same histogram).

        Min and max of the window are the representative values of its lowest and highest
        buckets (kept inside this histogram's exact range)."""
        out = Histogram()
        if any(n > self.buckets.get(i, 0) for i, n in earlier.buckets.items()):
            raise ValueError("minus: the other histogram is not an earlier snapshot of this one")
        for i, n in self.buckets.items():
            left = n - earlier.buckets.get(i, 0)
            if left < 0:
                raise ValueError(
                    "minus: the other histogram is not an earlier snapshot of this one"
                )
            if left:
                out.buckets[i] = left
        out.count = self.count - earlier.count
        out.total = self.total - earlier.total
        if out.buckets:
            out.low = self._clamp(bucket_value(min(out.buckets)))
            out.high = self._clamp(bucket_value(max(out.buckets)))
        return out

    def copy(self) -> Histogram:
        return Histogram().merge(self)

    def _clamp(self, v: float) -> float:
        if self.low is not None:
            v = max(v, self.low)
        if self.high is not None:
            v = min(v, self.high)
        return v

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile (``p`` in 0..1), as :func:`harness.load.common.pct`."""
        if not self.count:
            return None
        rank = min(self.count, max(1, math.ceil(p * self.count)))
        seen = 0
        for i in sorted(self.buckets):
            seen += self.buckets[i]
            if seen >= rank:
                if seen == self.count and rank == self.count and self.high is not None:
                    return self.high  # the top rank is the exact max
                return self._clamp(bucket_value(i))
        return self.high

    def summary_ms(self) -> dict[str, float | int | None]:
        """``{n, p50, p95, p99, max}`` in milliseconds (the results.json shape)."""
        out: dict[str, float | int | None] = {"n": self.count}
        for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            v = self.percentile(p)
            out[name] = None if v is None else round(v * 1000.0, 3)
        out["max"] = None if self.high is None else round(self.high * 1000.0, 3)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON: ``b`` holds ``[index, count]`` pairs in index order."""
        return {
            "n": self.count,
            "sum": self.total,
            "min": self.low,
            "max": self.high,
            "b": [[i, self.buckets[i]] for i in sorted(self.buckets)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        h = cls()
        h.buckets = {int(i): int(n) for i, n in data.get("b", [])}
        h.count = int(data.get("n", 0))
        h.total = float(data.get("sum", 0.0))
        h.low = data.get("min")
        h.high = data.get("max")
        if sum(h.buckets.values()) != h.count:
            raise ValueError("histogram: bucket counts do not add up to n")
        return h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Histogram(n={self.count}, p50={self.percentile(0.5)}, max={self.high})"


def merged(histograms: Iterable[Histogram]) -> Histogram:
    out = Histogram()
    for h in histograms:
        out.merge(h)
    return out


# --------------------------------------------------------------------------- tallies


@dataclasses.dataclass
class Tally:
    """A scenario's measurements; fields merge by type and round-trip through JSON.

    Field types: ``int`` / ``float`` (added), ``Counter`` (added), :class:`Histogram`
    (merged), ``str | None`` (the first value set is kept), ``list`` (joined; with
    ``metadata={"top": N}`` only the N largest items are kept); a field with
    ``metadata={"merge": "min"}`` keeps the smaller value set (None: unset).
    """

    def merge(self, other: Tally) -> Self:
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.metadata.get("merge") == "min":
                values = [v for v in (mine, theirs) if v is not None]
                setattr(self, f.name, min(values) if values else None)
            elif isinstance(mine, Histogram):
                mine.merge(theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                both = mine + list(theirs)
                top = f.metadata.get("top")
                setattr(self, f.name, sorted(both, reverse=True)[:top] if top else both)
            elif isinstance(mine, bool) or mine is None or isinstance(mine, str):
                if mine is None or mine == "":
                    setattr(self, f.name, theirs)
            elif isinstance(mine, int | float):
                setattr(self, f.name, mine + theirs)
            else:
                raise TypeError(f"Tally field {f.name}: cannot merge {type(mine).__name__}")
        return self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = (
                v.to_dict()
                if isinstance(v, Histogram)
                else (dict(v) if isinstance(v, Counter) else v)
            )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        blank = cls()
        values: dict[str, Any] = {}
        for f in dataclasses.fields(blank):
            if f.name not in data:
                continue
            kind = getattr(blank, f.name)
            v = data[f.name]
            if isinstance(kind, Histogram):
                values[f.name] = Histogram.from_dict(v)
            elif isinstance(kind, Counter):
                values[f.name] = Counter({str(k): int(n) for k, n in v.items()})
            else:
                values[f.name] = v
        return cls(**values)


def merge_tallies(cls: type[Tally], tallies: Iterable[Tally]) -> Tally:
    out = cls()
    for t in tallies:
        out.merge(t)
    return out
