"""Append-only JSON Lines files: the audit log (one line per predicted record) and the review
queue (records a human must look at, with their input).

Each line is written with a single os.write on a descriptor opened with O_APPEND, under a lock:
lines from concurrent requests never interleave, and nothing already in a file is rewritten.
Rotate or ship the files with tools that append or copy, never truncate in place.
"""
import datetime
import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List

from service.decisions import Decision
from service.jsonsafe import input_sha256, to_jsonable
from service.middleware import RequestIds


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
    """One line per predicted record: what came in (as a hash), what went out, from which model."""

    def __init__(self, path: Path, model_reference: Dict[str, Any]):
        self.appender = JsonlAppender(path)
        self.model_reference = model_reference

    def record(
        self,
        ids: RequestIds,
        endpoint: str,
        records: List[Dict[str, Any]],
        decisions: List[Decision],
        latency_ms: float,
    ) -> None:
        time = utc_now_iso()
        batch = endpoint.endswith("/batch")
        entries = []
        for index, (record, decision) in enumerate(zip(records, decisions)):
            entry = {
                "time": time,
                "request_id": ids.request_id,
                "client_request_id": ids.client_request_id,
                "endpoint": endpoint,
                "input_sha256": input_sha256(record),
                "output": decision.response_item(),
                "model": self.model_reference,
                "latency_ms": round(latency_ms, 3),
                "fallback": decision.fallback,
                "needs_review": decision.needs_review,
                "rule": decision.rule,
            }
            if batch:
                entry["batch_index"] = index
                entry["batch_size"] = len(records)
            entries.append(entry)
        self.appender.append(entries)


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
