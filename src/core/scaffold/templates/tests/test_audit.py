"""The audit log: one entry per predicted record, written in batches off the request path
(service/sink.py), appended, never rewritten; what a killed process lost is said at the next
start; a failing sink does not stop the answers."""
import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from conftest import PROJECT_ROOT, read_jsonl


def canonical_sha256(record):
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_utc(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() == datetime.timedelta(0), text
    return moment


def today_file(base: Path) -> Path:
    day = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    return base.with_name(f"{base.stem}-{day}{base.suffix}")


def test_every_prediction_is_audited_and_earlier_lines_are_kept(client, settings, service_config, golden_inputs, validated, audit_entries):
    earlier = '{"earlier": "line written before this service started"}\n'
    path = today_file(settings.audit_log)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(earlier)

    record = golden_inputs[0]
    body = client.post("/predict", json=record, headers={"X-Request-ID": "client-42"}).json()

    lines = audit_entries(client)
    assert path.read_text().startswith(earlier)
    assert len(lines) == 2
    entry = lines[1]
    assert entry["type"] == "prediction" and entry["role"] == "champion"
    assert entry["request_id"] == body["request_id"]
    assert entry["client_request_id"] == body["client_request_id"] == "client-42"
    assert entry["endpoint"] == "/predict"
    assert entry["input_sha256"] == canonical_sha256(validated(record))
    assert entry["input"] == validated(record), "the monitor's per-feature drift reads the input"
    assert entry["model"] == body["model"]
    assert entry["model"]["sha256"] == service_config["model"]["sha256"]
    assert entry["model"]["version"] == service_config["model"].get("version")
    assert isinstance(entry["latency_ms"], (int, float)) and entry["latency_ms"] >= 0
    assert entry["output"]["prediction"] == body["prediction"]
    assert entry["output"]["probability"] == body["probability"]
    assert (entry["fallback"], entry["kill_switch"], entry["needs_review"], entry["rule"]) == (body["fallback"], False, body["needs_review"], body["rule"])
    if body["probability"] is not None:
        scores = dict((json.dumps(label), p) for label, p in entry["scores"])
        assert abs(sum(scores.values()) - 1) < 1e-9
        assert abs(scores[json.dumps(body["prediction"])] - body["probability"]) < 1e-12
    parse_utc(entry["time"])


def test_inputs_stay_out_of_the_log_when_configured(make_client, service_config, golden_inputs, audit_entries):
    service_config["audit"] = {"inputs": False}
    client = make_client(service_config)
    client.post("/predict", json=golden_inputs[0])
    entry = audit_entries(client)[-1]
    assert "input" not in entry and entry["input_sha256"]


def test_a_batch_writes_one_line_per_record(client, golden_inputs, validated, audit_entries):
    body = client.post("/predict/batch", json={"records": golden_inputs}).json()
    lines = audit_entries(client)
    assert len(lines) == len(golden_inputs)
    for index, (record, item, entry) in enumerate(zip(golden_inputs, body["predictions"], lines)):
        assert entry["request_id"] == body["request_id"]
        assert entry["client_request_id"] is None
        assert entry["endpoint"] == "/predict/batch"
        assert entry["batch_index"] == index
        assert entry["batch_size"] == len(golden_inputs)
        assert entry["input_sha256"] == canonical_sha256(validated(record))
        assert entry["output"]["prediction"] == item["prediction"]


def test_requests_append_in_order_and_refused_ones_write_nothing(client, golden_inputs, audit_entries):
    first = client.post("/predict", json=golden_inputs[0]).json()
    refused = client.post("/predict", json={"not": "a record"})
    assert refused.status_code == 422
    second = client.post("/predict", json=golden_inputs[-1]).json()
    assert [line["request_id"] for line in audit_entries(client)] == [first["request_id"], second["request_id"]]


def test_fallback_answers_are_audited_as_such(client, monkeypatch, service_config, valid_record, audit_entries):
    monkeypatch.setenv((service_config.get("kill_switch") or {}).get("env") or "NB2PROD_KILL_SWITCH", "1")
    client.post("/predict", json=valid_record)
    entry = audit_entries(client)[-1]
    assert entry["fallback"] is True and entry["kill_switch"] is True
    assert entry["output"]["prediction"] == service_config["fallback"]["prediction"]


def test_a_failed_prediction_is_audited_as_an_error(make_client, monkeypatch, valid_record, audit_entries):
    client = make_client()
    predictor = client.app.state.service.predictor

    def broken(records):
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(predictor, "predict", broken)
    reply = client.post("/predict", json=valid_record)
    assert reply.status_code == 500
    entry = audit_entries(client)[-1]
    assert entry["type"] == "error" and "the model fell over" in entry["error"]
    assert entry["request_id"] == reply.json()["request_id"]


def test_files_rotate_daily_and_old_ones_are_deleted_after_the_retention(tmp_path):
    from service.sink import PREDICTIONS, JsonlStore

    store = JsonlStore({PREDICTIONS: tmp_path / "audit" / "predictions.jsonl"}, "daily", retention_days=30)
    old = tmp_path / "audit" / "predictions-2000-01-01.jsonl"
    old.parent.mkdir(parents=True)
    old.write_text('{"old": true}\n')
    other = tmp_path / "audit" / "notes.txt"
    other.write_text("kept")
    store.write(PREDICTIONS, [("2031-05-01T23:59:59.999Z", "a", '{"n":1}'), ("2031-05-02T00:00:00.000Z", "b", '{"n":2}')])
    assert read_jsonl(tmp_path / "audit" / "predictions-2031-05-01.jsonl") == [{"n": 1}]
    assert read_jsonl(tmp_path / "audit" / "predictions-2031-05-02.jsonl") == [{"n": 2}]
    assert not old.exists(), "older than retention_days"
    assert other.exists()


def test_concurrent_writers_never_interleave_lines(tmp_path, settings):
    from service.settings import AuditSettings
    from service.sink import PREDICTIONS, AuditSink, JsonlStore

    store = JsonlStore({PREDICTIONS: tmp_path / "audit.jsonl"}, "none")
    sinks = [AuditSink(store, AuditSettings(batch_size=7, flush_interval_ms=5)) for _ in range(4)]
    padding = "x" * 5000  # lines longer than a pipe buffer, to give interleaving a chance

    def write(worker):
        for n in range(40):
            sinks[worker % 4].submit(PREDICTIONS, [{"worker": worker, "n": n, "padding": padding}])

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sink in sinks:
        sink.close()
    lines = read_jsonl(tmp_path / "audit.jsonl")
    assert len(lines) == 8 * 40
    for worker in range(8):
        assert [line["n"] for line in lines if line["worker"] == worker] == list(range(40))


def test_the_request_path_does_not_wait_for_the_disk(tmp_path, monkeypatch):
    """submit() only queues: a store that takes 200 ms per batch does not slow it down."""
    import time

    from service.settings import AuditSettings
    from service.sink import PREDICTIONS, AuditSink, JsonlStore

    store = JsonlStore({PREDICTIONS: tmp_path / "audit.jsonl"}, "none")
    write = store.write
    monkeypatch.setattr(store, "write", lambda stream, rows: (time.sleep(0.2), write(stream, rows)))
    sink = AuditSink(store, AuditSettings(batch_size=10, flush_interval_ms=10))
    started = time.perf_counter()
    for n in range(100):
        sink.submit(PREDICTIONS, [{"n": n}])
    assert time.perf_counter() - started < 0.1
    sink.close(timeout=30)
    assert [line["n"] for line in read_jsonl(tmp_path / "audit.jsonl")] == list(range(100))


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from service.settings import AuditSettings
    from service.sink import PREDICTIONS, AuditSink, JsonlStore
    folder = Path(sys.argv[1])
    store = JsonlStore({PREDICTIONS: folder / "predictions.jsonl"}, "none")
    sink = AuditSink(store, AuditSettings(flush_interval_ms=600000, batch_size=1000), folder / ".ledger")
    sink.submit(PREDICTIONS, [{"n": n} for n in range(3)])
    assert sink.flush(10)
    sink.submit(PREDICTIONS, [{"n": n} for n in range(3, 7)])
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_after_kill_9_the_next_start_says_how_many_entries_were_lost(tmp_path, caplog):
    from service.settings import AuditSettings
    from service.sink import PREDICTIONS, AuditSink, JsonlStore

    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=str(PROJECT_ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert [line["n"] for line in read_jsonl(tmp_path / "predictions.jsonl")] == [0, 1, 2]

    store = JsonlStore({PREDICTIONS: tmp_path / "predictions.jsonl"}, "none")
    with caplog.at_level("WARNING", logger="nb2prod.service"):
        sink = AuditSink(store, AuditSettings(), tmp_path / ".ledger")
    assert sink.status()["lost_before_start"] == 4
    assert "without writing 4 audit entries" in caplog.text
    sink.close()
    gap = read_jsonl(tmp_path / "predictions.jsonl")[-1]
    assert gap["type"] == "gap" and gap["lost"] == {"predictions": 4, "feedback": 0}
    assert not list((tmp_path / ".ledger").glob("*.ledger")), "a clean stop leaves no ledger"

    again = AuditSink(store, AuditSettings(), tmp_path / ".ledger")
    assert again.status()["lost_before_start"] == 0, "reported once"
    again.close()


def test_a_failing_sink_keeps_serving_buffers_up_to_the_bound_and_says_so(make_client, service_config, monkeypatch, golden_inputs, audit_entries):
    from service.sink import JsonlStore, SinkError

    service_config["audit"] = {"buffer_max": 3, "flush_interval_ms": 10}
    original = JsonlStore.write
    broken = {"on": True}

    def write(self, stream, rows):
        if broken["on"]:
            raise SinkError("disk unplugged")
        original(self, stream, rows)

    monkeypatch.setattr(JsonlStore, "write", write)
    client = make_client(service_config)
    replies = [client.post("/predict", json=record) for record in golden_inputs[:5]]
    assert [reply.status_code for reply in replies] == [200] * 5, "the answers do not wait for the audit"
    client.app.state.service.sink.flush(0.3)
    audit = client.get("/ready").json()["audit"]
    assert (audit["status"], audit["buffered"], audit["dropped"]["predictions"]) == ("dropping", 3, 2), audit
    assert "disk unplugged" in audit["last_error"]
    metrics = client.get("/metrics").text
    assert 'nb2prod_audit_sink_up{sink="jsonl"} 0' in metrics
    assert 'nb2prod_audit_dropped_total{stream="predictions"} 2' in metrics

    broken["on"] = False
    entries = audit_entries(client)
    assert [entry["request_id"] for entry in entries] == [reply.json()["request_id"] for reply in replies[:3]]
    assert client.get("/ready").json()["audit"]["status"] == "ok"


def test_the_dsn_password_is_not_shown():
    from service.sink import redact_dsn

    assert redact_dsn("postgresql://app:s3cret@db:5432/audit") == "postgresql://app:***@db:5432/audit"
    assert redact_dsn("host=db password=s3cret dbname=audit") == "host=db password=*** dbname=audit"


def test_audit_dsn_without_a_driver_names_what_to_install(monkeypatch):
    import builtins

    import pytest

    from service.settings import ConfigError
    from service.sink import PostgresStore

    real_import = builtins.__import__

    def no_driver(name, *args, **kwargs):
        if name in ("psycopg", "psycopg2"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_driver)
    with pytest.raises(ConfigError, match="psycopg"):
        PostgresStore("postgresql://127.0.0.1:1/none", "nb2prod_audit")


def test_feedback_is_appended_with_its_request_id(client, golden_inputs, audit_entries, project_json):
    body = client.post("/predict/batch", json={"records": golden_inputs[:2]}).json()
    label = body["predictions"][1]["prediction"]
    one = client.post("/feedback", json={"request_id": body["request_id"], "batch_index": 1, "label": label, "known_at": "2031-01-02T03:04:05Z"})
    assert one.status_code == 202, one.text
    many = client.post("/feedback/batch", json={"items": [
        {"request_id": body["request_id"], "batch_index": 0, "outcome": 12.5, "source": "implicit"},
        {"request_id": "unknown-id", "label": label},
    ]})
    assert many.status_code == 202 and many.json()["accepted"] == 2
    entries = audit_entries(client, "feedback")
    assert [(e["request_id"], e["batch_index"], e["label"], e["outcome"], e["source"]) for e in entries] == [
        (body["request_id"], 1, label, None, "explicit"),
        (body["request_id"], 0, None, 12.5, "implicit"),
        ("unknown-id", None, label, None, "explicit"),
    ]
    assert entries[0]["known_at"] == "2031-01-02T03:04:05Z"
    parse_utc(entries[1]["known_at"])
    assert [e["feedback_id"] for e in entries] == one.json()["feedback_ids"] + many.json()["feedback_ids"]


def test_feedback_that_cannot_be_used_gets_a_422_naming_the_field(client):
    cases = [
        ({"request_id": "r1"}, "label"),
        ({"request_id": "r1", "label": {"not": "a label"}}, "label"),
        ({"request_id": "r1", "label": None, "outcome": 1, "known_at": "yesterday"}, "known_at"),
        ({"request_id": "r1", "outcome": 1, "known_at": "2031-01-02T03:04:05"}, "known_at"),
        ({"request_id": "r1", "outcome": 1, "source": "guessed"}, "source"),
        ({"request_id": "", "outcome": 1}, "request_id"),
    ]
    for body, field in cases:
        reply = client.post("/feedback", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert [error["field"] for error in reply.json()["errors"]] == [field], (body, reply.text)
    reply = client.post("/feedback/batch", json={"items": [{"request_id": "r1", "outcome": 1}, {"request_id": "r2"}]})
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "items[1].label"
