"""Tests of the training pipeline: the data contract, quarantine of bad rows, the step runner,
and a dry run of the notebook's steps up to the features (no training) on the real data.

They read only the generated configuration (pipeline/config.json, service/config.json,
contracts/*.schema.json) and tests/golden/sample.json, so they hold for any notebook.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from common.contract import REASON_COLUMN, load_schema, split_frame, validate_record
from pipeline.framework import PipelineError, step
from pipeline.run import run_pipeline, run_step
from pipeline.validation import validate_frame

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_CONFIG = json.loads((ROOT / "pipeline" / "config.json").read_text(encoding="utf-8"))
SERVICE_CONFIG = json.loads((ROOT / "service" / "config.json").read_text(encoding="utf-8"))
GOLDEN = ROOT / "tests" / "golden" / "sample.json"
INPUT_SCHEMA = load_schema(ROOT / "contracts" / "input.schema.json")
TRAINING_SCHEMA = load_schema(ROOT / "contracts" / "training.schema.json")
VALIDATIONS = PIPELINE_CONFIG.get("validation") or []


def _types(prop):
    kinds = prop.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)


def valid_value(prop):
    """A value the property accepts."""
    kinds = _types(prop)
    if prop.get("enum"):
        return prop["enum"][0]
    if "number" in kinds or "integer" in kinds:
        for bound in ("minimum", "maximum"):
            if prop.get(bound) is not None:
                return prop[bound]
        return 0
    if "string" in kinds:
        return "2024-01-01T00:00:00Z" if prop.get("format") == "date-time" else "text"
    if "boolean" in kinds:
        return True
    return None


def broken_value(prop):
    """A value the property rejects (None when it accepts anything)."""
    kinds = _types(prop)
    if "number" in kinds or "integer" in kinds:
        if prop.get("minimum") is not None:
            return prop["minimum"] - 1
        if prop.get("maximum") is not None:
            return prop["maximum"] + 1
        if prop.get("enum"):
            return max(v for v in prop["enum"] if isinstance(v, (int, float))) + 1
        return "not a number"
    if "string" in kinds:
        if prop.get("enum"):
            return "__not_in_the_contract__"
        return "not a date" if prop.get("format") == "date-time" else 12345
    if "boolean" in kinds:
        return "not a boolean"
    if kinds and "null" not in kinds:
        return None
    return None


def golden_records():
    """The golden inputs completed into training records (target and any other required column)."""
    if not GOLDEN.exists():
        pytest.skip("tests/golden/sample.json is missing: run python -m pipeline.golden")
    rows = json.loads(GOLDEN.read_text(encoding="utf-8"))["rows"]
    records = []
    for row in rows:
        record = dict(row["input"])
        for name, prop in TRAINING_SCHEMA.get("properties", {}).items():
            if name not in record:
                record[name] = valid_value(prop)
        records.append(record)
    assert records, "tests/golden/sample.json has no rows"
    return records


BREAKABLE = [name for name, prop in INPUT_SCHEMA.get("properties", {}).items()
             if broken_value(prop) is not None or (_types(prop) and "null" not in _types(prop))]


def test_golden_inputs_meet_the_input_and_training_contracts():
    records = golden_records()
    for record in records:
        inputs = {k: v for k, v in record.items() if k in INPUT_SCHEMA.get("properties", {})}
        assert validate_record(INPUT_SCHEMA, inputs) == []
    good, bad = split_frame(TRAINING_SCHEMA, pd.DataFrame(records))
    assert bad.empty, bad[REASON_COLUMN].tolist()
    assert len(good) == len(records)


@pytest.mark.parametrize("field", BREAKABLE)
def test_a_row_broken_in_one_field_is_quarantined_with_that_field_named(field):
    records = golden_records()
    broken = dict(records[0])
    broken[field] = broken_value(INPUT_SCHEMA["properties"][field])
    frame = pd.DataFrame(records + [broken])

    good, bad = split_frame(TRAINING_SCHEMA, frame)

    assert len(good) == len(records)
    assert list(bad.index) == [len(records)]
    reason = bad[REASON_COLUMN].iloc[0]
    assert reason.startswith(field + ":"), reason
    assert validate_record(TRAINING_SCHEMA, broken) == [reason]


def test_a_missing_required_column_fails_the_whole_frame():
    records = golden_records()
    required = TRAINING_SCHEMA.get("required") or []
    if not required:
        pytest.skip("the training contract requires no column")
    frame = pd.DataFrame(records).drop(columns=[required[0]])
    with pytest.raises(ValueError, match=re.escape(repr(required[0]))):
        split_frame(TRAINING_SCHEMA, frame)


@pytest.mark.skipif(not VALIDATIONS, reason="pipeline/config.json validates no frame")
def test_validation_quarantines_bad_rows_to_a_csv_with_reasons(tmp_path):
    records = golden_records()
    broken = []
    for field in BREAKABLE:
        row = dict(records[0])
        row[field] = broken_value(INPUT_SCHEMA["properties"][field])
        broken.append(row)
    frame = pd.DataFrame(records + broken)
    entry = dict(VALIDATIONS[0], schema="contracts/training.schema.json")

    good, report = validate_frame(entry, frame, {"max_quarantine_share": 1.0}, quarantine_dir=tmp_path)

    assert len(good) == len(records) and list(good.index) == list(range(len(records)))
    assert report["quarantined"] == len(broken)
    files = list(tmp_path.glob(entry["frame"] + "-*.csv"))
    assert [Path(report["file"])] == files
    quarantined = pd.read_csv(files[0])
    assert len(quarantined) == len(broken)
    for field, reason in zip(BREAKABLE, quarantined[REASON_COLUMN]):
        assert reason.startswith(field + ":"), reason


@pytest.mark.skipif(not VALIDATIONS, reason="pipeline/config.json validates no frame")
def test_validation_fails_when_the_quarantined_share_is_too_high(tmp_path):
    if not BREAKABLE:
        pytest.skip("no input field can be broken")
    records = golden_records()
    row = dict(records[0])
    row[BREAKABLE[0]] = broken_value(INPUT_SCHEMA["properties"][BREAKABLE[0]])
    frame = pd.DataFrame(records + [row] * len(records))  # half the rows are bad
    entry = dict(VALIDATIONS[0], schema="contracts/training.schema.json")
    with pytest.raises(PipelineError, match="max_quarantine_share") as failure:
        validate_frame(entry, frame, {"max_quarantine_share": 0.05}, quarantine_dir=tmp_path)
    assert failure.value.step == entry["step"]
    assert list(tmp_path.glob("*.csv")), "the bad rows are kept for inspection"


def test_a_flaky_step_is_retried_with_backoff_and_each_failure_logged(caplog):
    calls = []

    @step(outputs=["answer"], retries=2)
    def flaky_download():
        calls.append(len(calls) + 1)
        if len(calls) < 3:
            raise ConnectionError("attempt %d: connection reset" % len(calls))
        return 42

    namespace = {}
    caplog.set_level("INFO", logger="nb2prod.pipeline")
    entry = run_step(flaky_download, namespace, {}, backoff_base=0.001)

    assert namespace == {"answer": 42} and calls == [1, 2, 3]
    assert entry["attempts"] == 3 and entry["status"] == "succeeded"
    retries = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(retries) == 2
    assert "ConnectionError: attempt 1: connection reset" in retries[0]


def test_a_step_failing_every_attempt_fails_the_pipeline_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("NB2PROD_WORKDIR", str(tmp_path))  # these steps read no data

    @step(outputs=["value"])
    def produce():
        return 1

    @step(outputs=[], retries=1)
    def always_broken(value):
        raise RuntimeError("broken on purpose")

    with pytest.raises(PipelineError, match="broken on purpose") as failure:
        run_pipeline(steps=[produce, always_broken], backoff_base=0.001)
    assert failure.value.step == "always_broken"
    summary = json.loads((tmp_path / "reports" / "pipeline-run.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and summary["failed_step"] == "always_broken"
    assert [s["attempts"] for s in summary["steps"]] == [1, 2]


def test_the_notebook_steps_run_up_to_the_features_on_the_real_data(tmp_path):
    until = (PIPELINE_CONFIG.get("features") or {}).get("step")
    if not until:
        pytest.skip('pipeline/config.json has no "features" step')
    workdir = os.environ.get("NB2PROD_WORKDIR") or str((ROOT / PIPELINE_CONFIG.get("workdir", ".")).resolve())
    if not os.path.isdir(workdir):
        pytest.skip("the notebook's folder %s (the pipeline's workdir) is not in this checkout" % workdir)
    env = dict(os.environ, NB2PROD_STATE_DIR=str(tmp_path), NB2PROD_RETRY_BACKOFF_SECONDS="0.01")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "--until", until], cwd=str(ROOT),
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode == 1 and "FileNotFoundError" in proc.stderr and "step %s done" % until not in proc.stderr:
        pytest.skip("the training data is not in this checkout (set NB2PROD_WORKDIR to a folder "
                    "that has it): %s" % proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr
    assert "step %s done" % until in proc.stderr
    assert not (tmp_path / "reports" / "pipeline-run.json").exists(), "a partial run writes no summary"
