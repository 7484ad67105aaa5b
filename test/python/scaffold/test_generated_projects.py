"""Real generated projects, end to end. For the churn example and the scaffold fixture notebooks
(fixture.py NOTEBOOKS: a regressor with a derived column; a classifier pipeline with "yes"/"no"
labels; Titanic-style preprocessing fitted outside the model with a helper-wrapped reader and an
id column; a ColumnTransformer then gradient boosting with an id column; text through a
TfidfVectorizer; a make_pipeline regression; a grid search's best estimator; support tickets with
inputs of every JSON type, nulls included, and boolean labels), the project
`nb2prod track` + `nb2prod scaffold` write passes its own pytest with the interpreter running
these tests, and its service, started with uvicorn on loopback, answers real HTTP requests as
the notebook would:

- every golden row (held-out raw rows, request fields and the id) gets the prediction of the
  notebook's own code path (and probability, within 1e-9), unless the run was unseeded;
- real rows read straight from the data file, with only the request fields (and the id column),
  get 200 with the id passed back; the README's example request is one of them;
- a record broken in one field gets a 422 naming that field, a number sent as text or as a
  boolean included (the request model is strict);
- every request gets its own id, a client's X-Request-ID kept beside it;
- the kill-switch file flips /predict to the configured fallback, and back, without a restart;
- /metrics is Prometheus text counting the requests and predictions;
- the audit log has one line per predicted record, with the request id the response gave.

One project and one server per notebook, shared by the tests of that notebook (the service
client notes every prediction it gets, which the audit log test holds the log to).

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_generated_projects.py -q
  (npm run test:python runs it under both interpreters)
"""
import json
import math
import re

import jsonschema
import pandas as pd
import pytest

from fixture import NOTEBOOKS, build
from generated import Service, prometheus_samples, read_json, read_jsonl, run_project_pytest

PREDICT_REQUESTS = re.compile(r'^nb2prod_requests_total\{endpoint="/predict(/batch)?",')


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[notebook.id for notebook in NOTEBOOKS])
def project(request, tmp_path_factory):
    """The generated project's root; the notebook's folder is its parent. Tests must not change it."""
    return build(request.param, tmp_path_factory.mktemp(request.param.id))


@pytest.fixture(scope="module")
def service(project, tmp_path_factory):
    with Service(project, tmp_path_factory.mktemp("service")) as service:
        yield service


def config_of(project):
    return read_json(project / "service" / "config.json")


def golden_rows(project):
    rows = read_json(project / "tests" / "golden" / "sample.json")["rows"]
    assert len(rows) == 20
    return rows


def notebook_of(project):
    return next(nb for nb in NOTEBOOKS if (project.parent / nb.notebook).is_file() and project.name == nb.out)


def test_the_project_passes_its_own_tests(project):
    run = run_project_pytest(project)
    assert run.proc.returncode == 0, "the project's tests failed:\n" + run.output
    assert run.counts.get("passed", 0) > 80, run.output
    assert set(run.counts) == {"passed"}, run.output
    assert "skipped" not in run.proc.stdout, run.output
    assert not (project / "var").exists(), "the project's tests wrote into its var/"


def test_every_golden_row_gets_the_notebooks_prediction(project, service):
    config = config_of(project)
    output_schema = jsonschema.Draft202012Validator(read_json(project / "contracts" / "output.schema.json"))
    ready = service.get("/ready")
    assert ready.status == 200 and ready.json()["model"]["sha256"] == config["model"]["sha256"]

    sample = read_json(project / "tests" / "golden" / "sample.json")
    assert sample["reproduced"] is True or (sample["unseeded"] and sample["note"]), sample
    rows = golden_rows(project)
    for row in rows:
        reply = service.predict(row["input"])
        assert reply.status == 200, reply.text
        body = reply.json()
        output_schema.validate(body)
        assert_same_prediction(body["prediction"], row["prediction"], row)
        assert_same_probability(body["probability"], row["probability"])
        if sample["reproduced"]:
            # the notebook's own code path, retrained on the run's data, predicts the same
            assert_same_prediction(body["prediction"], row["notebook"]["prediction"], row)
            assert_same_probability(body["probability"], row["notebook"]["probability"])
        assert body["fallback"] is False
        assert body["model"]["sha256"] == config["model"]["sha256"]
        assert body["request_id"] and reply.headers["x-request-id"] == body["request_id"]

    reply = service.predict_batch([row["input"] for row in rows])
    assert reply.status == 200, reply.text
    predictions = reply.json()["predictions"]
    assert len(predictions) == len(rows)
    for item, row in zip(predictions, rows):
        assert_same_prediction(item["prediction"], row["prediction"], row)
        assert_same_probability(item["probability"], row["probability"])


def assert_same_prediction(served, golden, row):
    assert type(served) is type(golden) or {type(served), type(golden)} <= {int, float}, (served, golden, row)
    if isinstance(golden, float):
        assert math.isclose(served, golden, rel_tol=1e-9, abs_tol=1e-12), (served, golden, row)
    else:
        assert served == golden, (served, golden, row)


def data_rows(project):
    """The training table as the notebook read it (a fresh read of the file)."""
    notebook = notebook_of(project)
    return pd.read_csv(project.parent / notebook.data, **notebook.read)


def test_real_rows_of_the_data_get_answers_and_their_id_back(project, service):
    """Raw rows straight from the data file, with only the request fields (and the id column):
    the columns the notebook drops are not asked for, and the id comes back."""
    config = config_of(project)
    schema = read_json(project / "contracts" / "input.schema.json")
    assert sorted(schema["required"]) == sorted(config["input_columns"])
    assert config["target"] not in schema["properties"]
    frame = data_rows(project)
    fields = config["input_columns"] + ([config["id_column"]] if config["id_column"] else [])
    picked = frame.iloc[[0, len(frame) // 3, len(frame) // 2, len(frame) - 1]]
    for _, row in picked.iterrows():
        record = {c: json_value(row[c]) for c in fields}
        if any(record[c] is None and "null" not in types_of(schema["properties"][c]) for c in config["input_columns"]):
            continue  # a row training dropped (dropna): the contract refuses it
        reply = service.predict(record)
        assert reply.status == 200, (record, reply.text)
        if config["id_column"]:
            assert reply.json()[config["id_column"]] == record[config["id_column"]]
    if config["id_column"]:
        entries = service.audit_entries()
        assert entries[-1]["output"][config["id_column"]] is not None


def test_the_readme_example_is_a_real_row_of_the_training_data(project, service):
    config = config_of(project)
    readme = (project / "README.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"-d '(\{.*\})'", readme).group(1))
    assert set(config["input_columns"]) <= set(example) <= set(config["input_columns"]) | {config["id_column"]}
    frame = data_rows(project)
    matches = frame
    for column, value in example.items():
        matches = matches[matches[column].isna()] if value is None else matches[matches[column] == value]
    assert len(matches) >= 1, ("the README's example is not a row of the data", example)
    reply = service.predict(example)
    assert reply.status == 200, reply.text


def json_value(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def types_of(property_schema):
    kind = property_schema.get("type", [])
    return [kind] if isinstance(kind, str) else kind


def assert_same_probability(served, golden):
    if golden is None:  # a regressor, or a classifier without predict_proba
        assert served is None
    else:
        assert served is not None and math.isclose(served, golden, rel_tol=0, abs_tol=1e-9), (served, golden)


def broken_records(schema, record):
    """(field, record with that field broken, how) for the first numeric and the first
    categorical field of the input schema: a string for a number, a number below the training
    range, an unknown category."""
    properties = schema["properties"]
    required = set(schema["required"])
    number = next((name for name, p in properties.items() if "number" in _types(p) and name in record and name in required), None)
    category = next((name for name, p in properties.items() if p.get("enum") and name in record), None)
    text = next((name for name, p in properties.items() if "string" in _types(p) and name in record and name in required), None)
    cases = []
    if number:
        cases += [(number, dict(record, **{number: "not a number"}), "a string for a number"),
                  (number, dict(record, **{number: str(record[number])}), "a number as text"),
                  (number, dict(record, **{number: True}), "a boolean for a number")]
    if category:
        cases.append((category, dict(record, **{category: "no-such-%s" % category}), "an unknown category"))
    if text:
        cases.append((text, {k: v for k, v in record.items() if k != text}, "a required field missing"))
    assert cases, schema
    return cases


def _types(property_schema):
    kind = property_schema.get("type", [])
    return [kind] if isinstance(kind, str) else kind


def test_a_record_broken_in_one_field_gets_a_422_naming_it(project, service):
    schema = read_json(project / "contracts" / "input.schema.json")
    predicted = len(service.predicted)
    for field, record, how in broken_records(schema, golden_rows(project)[0]["input"]):
        reply = service.predict(record)
        assert reply.status == 422, (how, reply.text)
        assert [error["field"] for error in reply.json()["errors"]] == [field], (how, reply.text)
    assert len(service.predicted) == predicted


def test_every_request_gets_its_own_id_and_a_client_id_is_kept_beside_it(project, service):
    record = golden_rows(project)[5]["input"]
    replies = [service.predict(record, headers={"X-Request-ID": "order-77"}) for _ in range(2)]
    replies.append(service.predict(record))
    replies.append(service.predict(record, headers={"X-Request-ID": "two words\tand a tab"}))
    bodies = [reply.json() for reply in replies]
    assert all(reply.status == 200 for reply in replies)
    assert len({body["request_id"] for body in bodies}) == 4, "a resent X-Request-ID must not reuse an id"
    assert [body["request_id"] for body in bodies] == [reply.headers["x-request-id"] for reply in replies]
    assert [body["client_request_id"] for body in bodies] == ["order-77", "order-77", None, None]
    assert [reply.headers.get("x-client-request-id") for reply in replies] == ["order-77", "order-77", None, None]
    audited = {entry["request_id"]: entry.get("client_request_id") for entry in service.audit_entries()}
    assert [audited[body["request_id"]] for body in bodies] == ["order-77", "order-77", None, None]


def test_the_kill_switch_file_flips_to_the_fallback_and_back_without_a_restart(project, service):
    fallback = config_of(project)["fallback"]
    row = golden_rows(project)[0]
    switch = service.kill_switch_file
    switch.parent.mkdir(parents=True, exist_ok=True)
    switch.touch()
    try:
        body = service.predict(row["input"]).json()
        assert body["fallback"] is True, body
        assert body["prediction"] == fallback["prediction"] and body["probability"] == fallback["probability"]
        batch = service.predict_batch([r["input"] for r in golden_rows(project)[:3]]).json()["predictions"]
        assert [(item["fallback"], item["prediction"]) for item in batch] == [(True, fallback["prediction"])] * 3
        assert service.get("/ready").json()["kill_switch"] is True
        assert prometheus_samples(service.get("/metrics").text)["nb2prod_kill_switch_active"] == 1
    finally:
        switch.unlink()

    body = service.predict(row["input"]).json()
    assert body["fallback"] is False and body["prediction"] == row["prediction"]
    assert service.get("/ready").json()["kill_switch"] is False


def test_metrics_are_prometheus_text_counting_requests_and_predictions(project, service):
    assert service.predict(golden_rows(project)[1]["input"]).status == 200
    reply = service.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = prometheus_samples(reply.text)
    # every /predict and /predict/batch request this module made, by status, and no other
    served = {name: value for name, value in samples.items() if PREDICT_REQUESTS.match(name)}
    assert served == {'nb2prod_requests_total{endpoint="%s",status="%d"}' % key: count
                      for key, count in service.requests.items() if key[0].startswith("/predict")}
    assert samples["nb2prod_predictions_total"] == len(service.predicted)
    assert samples["nb2prod_fallback_predictions_total"] == sum(p.fallback for p in service.predicted)
    assert samples["nb2prod_kill_switch_active"] == 0
    sha256 = config_of(project)["model"]["sha256"]
    assert any(name.startswith("nb2prod_model_info{") and 'sha256="%s"' % sha256 in name for name in samples)
    assert "# TYPE nb2prod_request_latency_seconds histogram" in reply.text


def test_the_audit_log_has_one_line_per_predicted_record_with_its_request_id(project, service):
    rows = golden_rows(project)
    assert service.predict(rows[2]["input"]).status == 200
    assert service.predict_batch([rows[3]["input"], rows[4]["input"]]).status == 200

    audit = service.audit_entries()
    assert len(audit) == len(service.predicted), "one audit line per predicted record"
    assert [(entry["request_id"], entry["endpoint"], entry["output"]["prediction"], entry["fallback"]) for entry in audit] \
        == [tuple(predicted) for predicted in service.predicted]
    assert all(entry["model"]["sha256"] == config_of(project)["model"]["sha256"] for entry in audit)
    assert [entry["batch_index"] for entry in audit[-2:]] == [0, 1]
    assert not (project / "var").exists(), "NB2PROD_STATE_DIR moves the service's state out of the project"


def test_the_monitor_reads_the_audit_log_back(project, service):
    """`nb2prod monitor` on what this module's requests left: every answered record in its window,
    nothing unreadable, the drift of every input the profile can compare, labels joined."""
    import shutil
    import subprocess

    from fixture import CLI
    from generated import clean_env

    rows = golden_rows(project)
    body = service.predict(rows[0]["input"]).json()
    label = rows[0]["prediction"]
    assert service.request("POST", "/feedback", {"request_id": body["request_id"], "label": label}).status == 202
    audit = service.audit_entries()
    service.audit_entries("feedback", at_least=1)
    proc = subprocess.run([shutil.which("node"), str(CLI), "monitor", str(project), "--state", str(service.state), "--format", "json"],
                          cwd=str(project), env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    config = config_of(project)
    assert report["read"]["invalid"] == 0 and report["read"]["torn"] == 0
    assert report["read"]["unknownModels"] == []
    assert sum(w["volume"] for w in report["windows"]) == len(audit)
    window = report["windows"][-1]
    profiled = {c["name"] for c in read_json(project / "contracts" / "profile.json")["columns"] if c.get("type") in ("numeric", "categorical", "boolean")}
    assert {f["name"] for f in window["features"]} >= set(config["input_columns"]) & profiled
    assert report["labels"]["predictionsLabelled"] == 1 and report["labels"]["unknown"] == 0
    assert window["performance"]["n"] == 1
    if config["task"] == "classification":
        assert window["performance"]["accuracy"] == (1.0 if body["prediction"] == label else 0.0)
    else:
        assert window["performance"]["mae"] == pytest.approx(abs(body["prediction"] - label))
