"""The audit log: one JSON line per predicted record, appended, never rewritten."""
import datetime
import hashlib
import json
import threading


def canonical_sha256(record):
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_utc(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() == datetime.timedelta(0), text
    return moment


def test_every_prediction_is_audited_and_earlier_lines_are_kept(client, settings, service_config, golden_inputs, validated, jsonl):
    earlier = '{"earlier": "line written before this service started"}\n'
    settings.audit_log.parent.mkdir(parents=True, exist_ok=True)
    settings.audit_log.write_text(earlier)

    record = golden_inputs[0]
    body = client.post("/predict", json=record, headers={"X-Request-ID": "client-42"}).json()

    lines = jsonl(settings.audit_log)
    assert settings.audit_log.read_text().startswith(earlier)
    assert len(lines) == 2
    entry = lines[1]
    assert entry["request_id"] == body["request_id"]
    assert entry["client_request_id"] == body["client_request_id"] == "client-42"
    assert entry["endpoint"] == "/predict"
    assert entry["input_sha256"] == canonical_sha256(validated(record))
    assert entry["model"] == body["model"]
    assert entry["model"]["sha256"] == service_config["model"]["sha256"]
    assert entry["model"]["version"] == service_config["model"].get("version")
    assert isinstance(entry["latency_ms"], (int, float)) and entry["latency_ms"] >= 0
    assert entry["output"]["prediction"] == body["prediction"]
    assert entry["output"]["probability"] == body["probability"]
    assert (entry["fallback"], entry["needs_review"], entry["rule"]) == (body["fallback"], body["needs_review"], body["rule"])
    parse_utc(entry["time"])


def test_a_batch_writes_one_line_per_record(client, settings, golden_inputs, validated, jsonl):
    body = client.post("/predict/batch", json={"records": golden_inputs}).json()
    lines = jsonl(settings.audit_log)
    assert len(lines) == len(golden_inputs)
    for index, (record, item, entry) in enumerate(zip(golden_inputs, body["predictions"], lines)):
        assert entry["request_id"] == body["request_id"]
        assert entry["client_request_id"] is None
        assert entry["endpoint"] == "/predict/batch"
        assert entry["batch_index"] == index
        assert entry["batch_size"] == len(golden_inputs)
        assert entry["input_sha256"] == canonical_sha256(validated(record))
        assert entry["output"]["prediction"] == item["prediction"]


def test_requests_append_in_order_and_refused_ones_write_nothing(client, settings, golden_inputs, jsonl):
    first = client.post("/predict", json=golden_inputs[0]).json()
    refused = client.post("/predict", json={"not": "a record"})
    assert refused.status_code == 422
    second = client.post("/predict", json=golden_inputs[-1]).json()
    assert [line["request_id"] for line in jsonl(settings.audit_log)] == [first["request_id"], second["request_id"]]


def test_fallback_answers_are_audited_as_such(client, monkeypatch, settings, service_config, valid_record, jsonl):
    monkeypatch.setenv((service_config.get("kill_switch") or {}).get("env") or "NB2PROD_KILL_SWITCH", "1")
    client.post("/predict", json=valid_record)
    entry = jsonl(settings.audit_log)[-1]
    assert entry["fallback"] is True
    assert entry["output"]["prediction"] == service_config["fallback"]["prediction"]


def test_concurrent_writers_never_interleave_lines(tmp_path, jsonl):
    from service.audit import JsonlAppender

    appender = JsonlAppender(tmp_path / "audit.jsonl")
    padding = "x" * 5000  # lines longer than a pipe buffer, to give interleaving a chance

    def write(worker):
        for n in range(40):
            appender.append([{"worker": worker, "n": n, "padding": padding}])

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = jsonl(tmp_path / "audit.jsonl")
    assert len(lines) == 8 * 40
    for worker in range(8):
        assert [line["n"] for line in lines if line["worker"] == worker] == list(range(40))
