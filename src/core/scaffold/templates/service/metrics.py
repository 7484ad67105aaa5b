"""Prometheus metrics in the text exposition format 0.0.4, written by hand (no client library).

Counters and histograms live in this process: with several worker processes, scrape each one
(or run one process per container, as the Dockerfile does).
"""
import math
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from service.drift import DriftSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4"
LATENCY_BUCKETS: Tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Histogram:
    def __init__(self, buckets: Sequence[float]):
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # per bucket, not cumulative; last is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = len(self.buckets)
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                index = i
                break
        self.counts[index] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> List[Tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip(list(self.buckets) + [math.inf], self.counts):
            running += count
            out.append((_format_value(bound), running))
        return out


class ServiceMetrics:
    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS):
        self._lock = threading.Lock()
        self._buckets = tuple(buckets)
        self._requests: Dict[Tuple[str, str], int] = {}
        self._latency: Dict[str, _Histogram] = {}
        self.predictions = 0
        self.prediction_errors = 0
        self.fallback_predictions = 0
        self.review_flagged = 0

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (endpoint, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            histogram = self._latency.get(endpoint)
            if histogram is None:
                histogram = self._latency[endpoint] = _Histogram(self._buckets)
            histogram.observe(seconds)

    def count_predictions(self, predicted: int, fallback: int, flagged: int) -> None:
        with self._lock:
            self.predictions += predicted
            self.fallback_predictions += fallback
            self.review_flagged += flagged

    def count_errors(self, records: int) -> None:
        with self._lock:
            self.prediction_errors += records

    def render(
        self,
        kill_switch_active: bool,
        model_info: Dict[str, str],
        drift: Optional[DriftSnapshot],
        audit: Optional[Dict[str, Any]] = None,
    ) -> str:
        with self._lock:
            requests = sorted(self._requests.items())
            latency = {endpoint: (h.cumulative(), h.sum, h.count) for endpoint, h in sorted(self._latency.items())}
            counters = [
                ("nb2prod_predictions_total", "Records predicted (model or fallback).", self.predictions),
                ("nb2prod_prediction_errors_total", "Records whose prediction failed with an error.", self.prediction_errors),
                ("nb2prod_fallback_predictions_total", "Records answered with the fallback while the kill switch was on.", self.fallback_predictions),
                ("nb2prod_review_flagged_total", "Records flagged for human review.", self.review_flagged),
            ]
        lines: List[str] = []
        _family(lines, "nb2prod_requests_total", "counter", "HTTP requests by endpoint and status code.")
        for (endpoint, status), count in requests:
            lines.append(_sample("nb2prod_requests_total", {"endpoint": endpoint, "status": status}, count))
        _family(lines, "nb2prod_request_latency_seconds", "histogram", "HTTP request latency in seconds.")
        for endpoint, (buckets, total, count) in latency.items():
            for bound, cumulative in buckets:
                lines.append(_sample("nb2prod_request_latency_seconds_bucket", {"endpoint": endpoint, "le": bound}, cumulative))
            lines.append(_sample("nb2prod_request_latency_seconds_sum", {"endpoint": endpoint}, total))
            lines.append(_sample("nb2prod_request_latency_seconds_count", {"endpoint": endpoint}, count))
        for name, help_text, value in counters:
            _family(lines, name, "counter", help_text)
            lines.append(_sample(name, {}, value))
        _family(lines, "nb2prod_kill_switch_active", "gauge", "1 while the kill switch is on (fallback answers).")
        lines.append(_sample("nb2prod_kill_switch_active", {}, 1 if kill_switch_active else 0))
        _family(lines, "nb2prod_model_info", "gauge", "The model being served (always 1).")
        lines.append(_sample("nb2prod_model_info", model_info, 1))
        if drift is not None:
            _family(lines, "nb2prod_input_drift_psi", "gauge", "PSI of the recent inputs against the training profile, per input column.")
            for column, result in sorted(drift.columns.items()):
                lines.append(_sample("nb2prod_input_drift_psi", {"column": column}, result.psi))
            _family(lines, "nb2prod_input_drift_status", "gauge", "Drift per input column: 0 stable, 1 monitor, 2 retrain.")
            for column, result in sorted(drift.columns.items()):
                lines.append(_sample("nb2prod_input_drift_status", {"column": column}, result.status_code))
            _family(lines, "nb2prod_drift_window_rows", "gauge", "Records in the drift window.")
            lines.append(_sample("nb2prod_drift_window_rows", {}, drift.rows))
        if audit is not None:
            _audit_metrics(lines, audit)
        return "\n".join(lines) + "\n"


def _audit_metrics(lines: List[str], audit: Dict[str, Any]) -> None:
    """The audit sink (service/sink.py): is it writing, what it holds, what it dropped."""
    _family(lines, "nb2prod_audit_sink_up", "gauge", "1 while the audit sink writes, 0 while it fails (entries are buffered).")
    lines.append(_sample("nb2prod_audit_sink_up", {"sink": audit["sink"]}, 0 if audit["status"] != "ok" else 1))
    _family(lines, "nb2prod_audit_buffered_entries", "gauge", "Audit and feedback entries waiting to be written.")
    lines.append(_sample("nb2prod_audit_buffered_entries", {}, audit["buffered"]))
    _family(lines, "nb2prod_audit_buffer_max", "gauge", "The most entries held while the sink fails (audit.buffer_max).")
    lines.append(_sample("nb2prod_audit_buffer_max", {}, audit["buffer_max"]))
    _family(lines, "nb2prod_audit_written_total", "counter", "Entries written by the audit sink, per stream.")
    for stream, count in sorted(audit["written"].items()):
        lines.append(_sample("nb2prod_audit_written_total", {"stream": stream}, count))
    _family(lines, "nb2prod_audit_dropped_total", "counter", "Entries dropped because the buffer was full, per stream.")
    for stream, count in sorted(audit["dropped"].items()):
        lines.append(_sample("nb2prod_audit_dropped_total", {"stream": stream}, count))
    _family(lines, "nb2prod_audit_write_failures_total", "counter", "Batches the audit sink failed to write (and retried).")
    lines.append(_sample("nb2prod_audit_write_failures_total", {}, audit["failures"]))
    _family(lines, "nb2prod_audit_lost_before_start", "gauge", "Entries a previous process accepted and never wrote (killed).")
    lines.append(_sample("nb2prod_audit_lost_before_start", {}, audit["lost_before_start"]))


def _family(lines: List[str], name: str, kind: str, help_text: str) -> None:
    escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    lines.append(f"# HELP {name} {escaped}")
    lines.append(f"# TYPE {name} {kind}")


def _sample(name: str, labels: Dict[str, str], value: float) -> str:
    if labels:
        rendered = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
        return f"{name}{{{rendered}}} {_format_value(value)}"
    return f"{name} {_format_value(value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def endpoint_label(path: str, known: Iterable[str]) -> str:
    """The path itself for the service's own endpoints, "other" for anything else (keeps the
    number of series bounded whatever scanners request)."""
    return path if path in known else "other"
