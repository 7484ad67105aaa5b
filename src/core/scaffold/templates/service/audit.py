"""The audit log (one entry per predicted record, and per record whose prediction failed), the
feedback (labels and outcomes that arrive later, by request id) and the review queue (records a
human must look at, with their input).

The audit log and the feedback go through the sink (service/sink.py): queued on the request
path, written in batches by a thread of their own, to JSON Lines files rotated daily or to
PostgreSQL. The review queue is rare and small: each line is written at once with a single
os.write on a descriptor opened with O_APPEND, under a lock, so lines from concurrent requests
never interleave and nothing already in the file is rewritten.

An audit entry: ``type`` ("prediction", "error", or "gap" for entries a killed process lost),
time, request ids, endpoint, ``role`` (champion, or challenger in shadow or canary), the input
(``audit.inputs``) and its sha256, the output, every class's probability (``scores``), the model,
latency, fallback, kill switch, review flag, rule.
"""
import datetime
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from service.decisions import Decision
from service.jsonsafe import input_sha256, to_jsonable
from service.middleware import RequestIds
from service.sink import FEEDBACK, PREDICTIONS, AuditSink


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonlAppender:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, entries: Iterable[Dict[str, Any]]) -> None:
        lines = [(json.dumps(to_jsonable(entry), ensure_ascii=False) + "\n").encode("utf-8") for entry in entries]
        if not lines:
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                for line in lines:
                    _write_all(fd, line)
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    # Regular files take the whole line in one write; the loop only guards against a short write.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class AuditLog:
    """One entry per predicted record: what came in, what went out, from which model."""

    def __init__(self, sink: AuditSink, model_reference: Dict[str, Any], log_inputs: bool = True):
        self.sink = sink
        self.model_reference = model_reference
        self.log_inputs = log_inputs

    def record(
        self,
        ids: RequestIds,
        endpoint: str,
        records: List[Dict[str, Any]],
        decisions: List[Decision],
        latency_ms: float,
        role: str = "champion",
        model_reference: Optional[Dict[str, Any]] = None,
        shadow: bool = False,
    ) -> None:
        time = utc_now_iso()
        batch = endpoint.endswith("/batch")
        entries = []
        for index, (record, decision) in enumerate(zip(records, decisions)):
            entry = {
                "type": "prediction",
                "time": time,
                "request_id": ids.request_id,
                "client_request_id": ids.client_request_id,
                "endpoint": endpoint,
                "role": role,
                "input_sha256": input_sha256(record),
                "output": decision.response_item(),
                "scores": decision.scores,
                "model": model_reference or self.model_reference,
                "latency_ms": round(latency_ms, 3),
                "fallback": decision.fallback,
                "kill_switch": decision.kill_switch,
                "needs_review": decision.needs_review,
                "rule": decision.rule,
            }
            if self.log_inputs:
                entry["input"] = record
            if shadow:
                entry["shadow"] = True
            if batch:
                entry["batch_index"] = index
                entry["batch_size"] = len(records)
            entries.append(entry)
        self.sink.submit(PREDICTIONS, entries)

    def record_error(self, ids: RequestIds, endpoint: str, records: List[Dict[str, Any]], error: str, latency_ms: float) -> None:
        """The records whose prediction failed (a 500): the monitor's error rate counts them."""
        time = utc_now_iso()
        batch = endpoint.endswith("/batch")
        entries = []
        for index, record in enumerate(records):
            entry = {
                "type": "error",
                "time": time,
                "request_id": ids.request_id,
                "client_request_id": ids.client_request_id,
                "endpoint": endpoint,
                "role": "champion",
                "input_sha256": input_sha256(record),
                "error": error[:1000],
                "model": self.model_reference,
                "latency_ms": round(latency_ms, 3),
            }
            if batch:
                entry["batch_index"] = index
                entry["batch_size"] = len(records)
            entries.append(entry)
        self.sink.submit(PREDICTIONS, entries)


class FeedbackLog:
    """Labels and outcomes that became known after the prediction, joined to it by request id
    (and batch index) by `nb2prod monitor`. Append-only: a correction is a new entry (last wins)."""

    def __init__(self, sink: AuditSink):
        self.sink = sink

    def add(self, ids: RequestIds, items: List[Dict[str, Any]]) -> List[str]:
        received = utc_now_iso()
        entries = []
        feedback_ids = []
        for item in items:
            feedback_id = uuid.uuid4().hex
            feedback_ids.append(feedback_id)
            entries.append({
                "type": "feedback",
                "time": received,
                "feedback_id": feedback_id,
                "request_id": item["request_id"],
                "batch_index": item.get("batch_index"),
                "label": item.get("label"),
                "outcome": item.get("outcome"),
                "source": item.get("source") or "explicit",
                "known_at": item.get("known_at") or received,
                "received_request_id": ids.request_id,
            })
        self.sink.submit(FEEDBACK, entries)
        return feedback_ids


class ReviewQueue:
    """Records flagged for review, with their input: a reviewer needs to see what was predicted on."""

    def __init__(self, path: Path, model_reference: Dict[str, Any]):
        self.appender = JsonlAppender(path)
        self.model_reference = model_reference

    def add(
        self,
        ids: RequestIds,
        endpoint: str,
        records: List[Dict[str, Any]],
        decisions: List[Decision],
    ) -> int:
        time = utc_now_iso()
        entries = []
        for index, (record, decision) in enumerate(zip(records, decisions)):
            if not decision.needs_review:
                continue
            entries.append(
                {
                    "time": time,
                    "request_id": ids.request_id,
                    "client_request_id": ids.client_request_id,
                    "endpoint": endpoint,
                    "batch_index": index if endpoint.endswith("/batch") else None,
                    "input": record,
                    "input_sha256": input_sha256(record),
                    "prediction": decision.prediction,
                    "probability": decision.probability,
                    "rule": decision.rule,
                    "reasons": decision.review_reasons,
                    "model": self.model_reference,
                }
            )
        self.appender.append(entries)
        return len(entries)
