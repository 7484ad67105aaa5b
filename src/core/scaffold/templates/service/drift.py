"""Live input drift: PSI of the last `drift.window` records against the training data profile.

The reference is contracts/profile.json (what training saw): decile bins for numeric columns,
the most frequent values for the others. The computation mirrors nb2prod's own drift report
(src/core/drift/statistics.ts and drift.ts, profile reference) so that the service's gauges and
`nb2prod drift` agree:

- numeric: bins cut at the inner decile edges, the outer bins open-ended (current values out of
  the training range land in the first or last bin); when the deciles collapse to one or two
  values (an almost constant column) the bins are below / within / above the training range.
- categorical and boolean: the profile's top values plus one "other" bucket for the values it
  did not keep; when it kept every value, each unseen value is its own bin.
- PSI = sum over bins of (a - e) * ln(a / e), e and a the reference and current fractions, an
  empty bin counting as PSI_EPSILON. Severity: stable below `drift.monitor`, monitor from it,
  retrain above `drift.retrain`.

Nulls and non-finite numbers are left out on both sides. Datetime columns are not compared.
"""
import bisect
import collections
import json
import logging
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Sequence

from service.settings import DriftSettings

log = logging.getLogger("nb2prod.service")

PSI_EPSILON = 1e-4
SEVERITY_CODES = {"stable": 0, "monitor": 1, "retrain": 2}
_OTHER = object()  # the "other" bucket's key: cannot collide with a real value
_BOOLEAN_TEXT = re.compile(r"^(true|false)$", re.IGNORECASE)


def psi_cuts(edges: Sequence[float]) -> List[float]:
    """Bin i holds cuts[i-1] <= x < cuts[i], the outer bins open-ended."""
    if len(edges) <= 2:
        return [edges[0], math.nextafter(edges[-1], math.inf)]
    return list(edges[1:-1])


def bin_counts(values: Sequence[float], cuts: Sequence[float]) -> List[int]:
    counts = [0] * (len(cuts) + 1)
    for value in values:
        counts[bisect.bisect_right(cuts, value)] += 1
    return counts


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    n = sum(reference)
    m = sum(current)
    total = 0.0
    for i, ref_count in enumerate(reference):
        e = (ref_count / n if n else 0.0) or PSI_EPSILON
        cur_count = current[i] if i < len(current) else 0
        a = (cur_count / m if m else 0.0) or PSI_EPSILON
        total += (a - e) * math.log(a / e)
    return total


def severity(value: float, monitor: float, retrain: float) -> str:
    if value > retrain:
        return "retrain"
    if value >= monitor:
        return "monitor"
    return "stable"


class NumericReference:
    def __init__(self, edges: Sequence[float], counts: Sequence[int]):
        self.cuts = psi_cuts(edges)
        total = sum(counts)
        self.counts = [0, total, 0] if len(edges) <= 2 else list(counts)

    def psi(self, values: Sequence[Any]) -> Optional[float]:
        numbers = [float(v) for v in values if _is_number(v) and math.isfinite(float(v))]
        if not numbers or not sum(self.counts):
            return None
        return psi(self.counts, bin_counts(numbers, self.cuts))


class CategoricalReference:
    def __init__(self, top: Sequence[Dict[str, Any]], count: int):
        self.top = collections.OrderedDict((str(item["value"]), int(item["count"])) for item in top)
        self.other = max(int(count) - sum(self.top.values()), 0)

    def psi(self, values: Sequence[Any]) -> Optional[float]:
        current: "collections.OrderedDict[Any, int]" = collections.OrderedDict()
        for value in values:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            key = category_key(value)
            current[key] = current.get(key, 0) + 1
        if not current:
            return None
        reference = self.top
        if _all_boolean_text(reference) and _all_boolean_text(current):
            reference, current = _lowercased(reference), _lowercased(current)
        if self.other > 0:
            merged: "collections.OrderedDict[Any, int]" = collections.OrderedDict()
            other = 0
            for key, count in current.items():
                if key in reference:
                    merged[key] = count
                else:
                    other += count
            merged[_OTHER] = other
            current = merged
            reference = collections.OrderedDict(list(reference.items()) + [(_OTHER, self.other)])
        labels = list(reference) + [key for key in current if key not in reference]
        return psi([reference.get(k, 0) for k in labels], [current.get(k, 0) for k in labels])


def category_key(value: Any) -> str:
    """A value as the profile wrote it (Python's str, pandas' True/False), integers without ".0"."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _all_boolean_text(counts: Dict[Any, int]) -> bool:
    return all(key is _OTHER or _BOOLEAN_TEXT.match(key) for key in counts)


def _lowercased(counts: Dict[Any, int]) -> "collections.OrderedDict[Any, int]":
    out: "collections.OrderedDict[Any, int]" = collections.OrderedDict()
    for key, count in counts.items():
        key = key if key is _OTHER else key.lower()
        out[key] = out.get(key, 0) + count
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def reference_for(column: Dict[str, Any]):
    """The PSI reference of one profile column, or None when it cannot have one."""
    if column.get("error") or column.get("type") == "datetime":
        return None
    if column.get("type") == "numeric":
        bins = column.get("bins") or {}
        edges, counts = bins.get("edges") or [], bins.get("counts") or []
        if len(edges) < 2 or len(counts) != len(edges) - 1:
            return None
        return NumericReference([float(e) for e in edges], [int(c) for c in counts])
    if column.get("top") is None:
        return None
    return CategoricalReference(column["top"], column.get("count", 0))


@dataclass(frozen=True)
class ColumnDrift:
    psi: float
    severity: str

    @property
    def status_code(self) -> int:
        return SEVERITY_CODES[self.severity]


@dataclass(frozen=True)
class DriftSnapshot:
    rows: int
    columns: Dict[str, ColumnDrift]


class DriftMonitor:
    """The last `window` records' input values, compared on demand (at each /metrics scrape)."""

    def __init__(self, references: Dict[str, Any], settings: DriftSettings):
        self.references = references
        self.window = settings.window
        self.min_rows = settings.min_rows
        self.monitor = settings.monitor
        self.retrain = settings.retrain
        self._lock = threading.Lock()
        self._values: Dict[str, Deque[Any]] = {
            name: collections.deque(maxlen=self.window) for name in references
        }
        self._rows = 0

    @classmethod
    def from_profile(cls, profile_path: Path, input_columns: Sequence[str], settings: DriftSettings) -> "DriftMonitor":
        references: Dict[str, Any] = {}
        try:
            with open(profile_path, encoding="utf-8") as handle:
                profile = json.load(handle)
        except FileNotFoundError:
            log.warning("no %s: live drift gauges are off (regenerate the project to get it back)", profile_path)
            profile = {"columns": []}
        except ValueError as error:
            log.warning("%s is not valid JSON (%s): live drift gauges are off", profile_path, error)
            profile = {"columns": []}
        wanted = set(input_columns)
        for column in profile.get("columns", []):
            if column.get("name") in wanted:
                reference = reference_for(column)
                if reference is not None:
                    references[column["name"]] = reference
        return cls(references, settings)

    def observe(self, records: Sequence[Dict[str, Any]]) -> None:
        with self._lock:
            for record in records:
                for name, values in self._values.items():
                    values.append(record.get(name))
            self._rows = min(self._rows + len(records), self.window)

    def snapshot(self) -> DriftSnapshot:
        with self._lock:
            rows = self._rows
            values = {name: list(window) for name, window in self._values.items()}
        columns: Dict[str, ColumnDrift] = {}
        if rows >= self.min_rows:
            for name, reference in self.references.items():
                value = reference.psi(values[name])
                if value is not None:
                    columns[name] = ColumnDrift(value, severity(value, self.monitor, self.retrain))
        return DriftSnapshot(rows=rows, columns=columns)
