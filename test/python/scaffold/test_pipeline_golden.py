"""pipeline/golden.py (static template): tests/golden/sample.json and model/feature_columns.json.

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
"""
import datetime as dt
import json

import joblib
import numpy as np
import pandas as pd
import pytest

from pipeline_fixture_helpers import churn, clean_env, edit_json, read_json, run_module, use_project  # noqa: F401


def strict_json(path):
    def refuse(name):
        raise AssertionError("non-strict JSON constant %s in %s" % (name, path))
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def golden(churn, *args, **env):
    return run_module(churn, "pipeline.golden", *args, env=clean_env(NB2PROD_STATE_DIR=churn.parent / "state", **env))


def test_golden_writes_the_sample_the_service_is_tested_with(churn):
    shipped = read_json(churn / "tests" / "golden" / "sample.json")  # fixture.py's reference computation
    (churn / "tests" / "golden" / "sample.json").unlink()
    (churn / "model" / "feature_columns.json").unlink()

    proc = golden(churn)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["Wrote tests/golden/sample.json (20 rows)",
                                        "Wrote model/feature_columns.json (10 columns)"]
    sample = strict_json(churn / "tests" / "golden" / "sample.json")
    service = read_json(churn / "service" / "config.json")
    assert set(sample) == {"model_sha256", "task", "rows"}
    assert sample["model_sha256"] == service["model"]["sha256"] and sample["task"] == "classification"
    assert len(sample["rows"]) == 20
    for row in sample["rows"]:
        assert set(row) == {"input", "prediction", "probability"}
        assert list(row["input"]) == service["input_columns"]
        assert type(row["prediction"]) is int and 0.5 <= row["probability"] <= 1
    assert sample == shipped
    data = pd.read_csv(churn.parent / "data" / "customers.csv")
    first, last = sample["rows"][0]["input"], sample["rows"][-1]["input"]
    assert first == data[service["input_columns"]].iloc[0].to_dict()
    assert last == data[service["input_columns"]].iloc[-1].to_dict()
    assert read_json(churn / "model" / "feature_columns.json") == [
        "tenure_months", "monthly_charges", "support_calls", "contract_month-to-month", "contract_one-year",
        "contract_two-year", "payment_method_bank-transfer", "payment_method_card",
        "payment_method_electronic-check", "payment_method_mailed-check"]
    assert not (churn.parent / "state" / "reports").exists(), "golden runs no training and writes no run summary"


def test_rows_takes_that_many_evenly_spaced_rows(churn):
    proc = golden(churn, "--rows", "4")
    assert proc.returncode == 0, proc.stderr
    inputs = [r["input"] for r in read_json(churn / "tests" / "golden" / "sample.json")["rows"]]
    data = pd.read_csv(churn.parent / "data" / "customers.csv")
    columns = list(inputs[0])
    assert inputs == [data[columns].iloc[i].to_dict() for i in (0, 1000, 1999, 2999)]
    assert golden(churn, "--rows", "0").returncode == 2


def test_a_model_file_that_does_not_match_its_sha256_is_refused(churn):
    before = (churn / "tests" / "golden" / "sample.json").read_text()
    edit_json(churn / "service" / "config.json", model=dict(read_json(churn / "service" / "config.json")["model"], sha256="0" * 64))
    proc = golden(churn)
    assert proc.returncode == 2
    assert "model/churn_model.joblib has sha256" in proc.stderr and "expects " + "0" * 64 in proc.stderr
    assert (churn / "tests" / "golden" / "sample.json").read_text() == before


def test_rows_the_feature_code_drops_are_skipped(churn):
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace(
        "    return X\n", "    X = X[X[\"support_calls\"] > 2]  # keeps the frame's index\n    return X\n"))
    proc = golden(churn, "--rows", "10")
    assert proc.returncode == 0, proc.stderr
    rows = read_json(churn / "tests" / "golden" / "sample.json")["rows"]
    assert len(rows) == 10 and all(r["input"]["support_calls"] > 2 for r in rows)
    model = joblib.load(churn / "model" / "churn_model.joblib")
    columns = read_json(churn / "model" / "feature_columns.json")
    frame = pd.DataFrame([r["input"] for r in rows])
    X = pd.get_dummies(frame, columns=["contract", "payment_method"]).reindex(columns=columns, fill_value=0)
    assert [r["prediction"] for r in rows] == model.predict(X).tolist()


def test_nan_inputs_become_null(churn):
    data = churn.parent / "data" / "customers.csv"
    frame = pd.read_csv(data)
    frame.loc[0, "monthly_charges"] = np.nan
    frame.to_csv(data, index=False)
    training = read_json(churn / "contracts" / "training.schema.json")
    training["properties"]["monthly_charges"]["type"] = ["number", "null"]
    (churn / "contracts" / "training.schema.json").write_text(json.dumps(training))
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace("    return X\n", "    return X.fillna(0)\n"))
    proc = golden(churn, "--rows", "3")
    assert proc.returncode == 0, proc.stderr
    rows = strict_json(churn / "tests" / "golden" / "sample.json")["rows"]
    assert rows[0]["input"]["monthly_charges"] is None
    assert rows[1]["input"]["monthly_charges"] is not None


def test_a_feature_matrix_without_columns_writes_no_column_list(churn):
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace("    return X\n", "    return X.to_numpy(dtype=float)\n"))
    proc = golden(churn, "--rows", "5")
    assert proc.returncode == 0, proc.stderr
    assert "Removed model/feature_columns.json" in proc.stdout
    assert not (churn / "model" / "feature_columns.json").exists()
    assert len(read_json(churn / "tests" / "golden" / "sample.json")["rows"]) == 5


def test_json_safe_and_predictions_helpers(churn, use_project):
    use_project(churn)
    from pipeline.golden import json_safe, pick_positions, predictions
    assert json_safe(np.int64(3)) == 3 and type(json_safe(np.int64(3))) is int
    assert json_safe(np.float32(0.5)) == 0.5 and json_safe(np.bool_(True)) is True
    assert json_safe(float("nan")) is None and json_safe(np.nan) is None and json_safe(pd.NaT) is None
    assert json_safe(float("inf")) is None and json_safe(None) is None
    assert json_safe(pd.Timestamp("2024-05-01 12:30")) == "2024-05-01T12:30:00"
    assert json_safe(dt.date(2024, 5, 1)) == "2024-05-01"
    assert json_safe(np.array([1, 2])) == [1, 2]
    assert pick_positions(3, 20) == [0, 1, 2] and pick_positions(11, 3) == [0, 5, 10] and pick_positions(0, 3) == []

    from sklearn.linear_model import LinearRegression
    regression = LinearRegression().fit([[0.0], [1.0]], [0.0, 2.0])
    assert predictions(regression, np.array([[0.5]])) == [{"prediction": pytest.approx(1.0), "probability": None}]
