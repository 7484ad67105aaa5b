"""pipeline/golden.py (static template): tests/golden/sample.json and model/feature_columns.json.

The golden step runs the notebook's code path (every step, training included, the model written
to a temporary file), takes held-out rows, and holds three predictions of them together: the
notebook's own, the same rows as requests through the feature code and the fitted steps, and the
shipped model's (the run's).

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
"""
import datetime as dt
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from pipeline_fixture_helpers import churn, clean_env, edit_json, read_json, run_module, use_project  # noqa: F401

FEATURE_COLUMNS = ["tenure_months", "monthly_charges", "support_calls", "contract_month-to-month", "contract_one-year",
                   "contract_two-year", "payment_method_bank-transfer", "payment_method_card",
                   "payment_method_electronic-check", "payment_method_mailed-check"]


def strict_json(path):
    def refuse(name):
        raise AssertionError("non-strict JSON constant %s in %s" % (name, path))
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def golden(churn, *args, **env):
    return run_module(churn, "pipeline.golden", *args, env=clean_env(NB2PROD_STATE_DIR=churn.parent / "state", **env))


def held_out_labels(data):
    """The churn notebook's held-out rows (its split, recomputed): X_test's index."""
    _, test = train_test_split(data, test_size=0.25, random_state=42, stratify=data["churned"])
    return test.index


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_golden_retrains_through_the_notebooks_code_and_writes_the_sample(churn):
    shipped = read_json(churn / "tests" / "golden" / "sample.json")  # fixture.py's reference computation
    (churn / "tests" / "golden" / "sample.json").unlink()
    (churn / "model" / "feature_columns.json").unlink()
    notebook_model = churn.parent / "models" / "churn_model.joblib"
    before = sha256(notebook_model)

    proc = golden(churn)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["Wrote tests/golden/sample.json (20 rows)",
                                        "Wrote model/feature_columns.json (10 columns)"]
    sample = strict_json(churn / "tests" / "golden" / "sample.json")
    service = read_json(churn / "service" / "config.json")
    assert set(sample) == {"model_sha256", "task", "reproduced", "unseeded", "note", "rows"}
    assert sample["model_sha256"] == service["model"]["sha256"] and sample["task"] == "classification"
    # the notebook seeds everything: retraining reproduces the run's model
    assert sample["reproduced"] is True and sample["unseeded"] == [] and sample["note"] is None
    assert len(sample["rows"]) == 20
    for row in sample["rows"]:
        assert set(row) == {"input", "prediction", "probability", "notebook"}
        assert list(row["input"]) == service["input_columns"]
        assert type(row["prediction"]) is int and 0.5 <= row["probability"] <= 1
        assert row["notebook"] == {"prediction": row["prediction"], "probability": pytest.approx(row["probability"], abs=1e-9)}
    assert sample == shipped
    # the rows are held-out rows of the data, spread over the split's test part
    data = pd.read_csv(churn.parent / "data" / "customers.csv")
    labels = held_out_labels(data)
    positions = [int(round(p)) for p in np.linspace(0, len(labels) - 1, 20)]
    expected = data.loc[labels[positions], service["input_columns"]].to_dict(orient="records")
    assert [row["input"] for row in sample["rows"]] == expected
    assert read_json(churn / "model" / "feature_columns.json") == FEATURE_COLUMNS
    # training ran, but neither over the notebook's model file nor into a run summary
    assert sha256(notebook_model) == before
    assert not (churn.parent / "state" / "reports").exists()


def test_rows_takes_that_many_evenly_spaced_held_out_rows(churn):
    proc = golden(churn, "--rows", "4")
    assert proc.returncode == 0, proc.stderr
    inputs = [r["input"] for r in read_json(churn / "tests" / "golden" / "sample.json")["rows"]]
    data = pd.read_csv(churn.parent / "data" / "customers.csv")
    labels = held_out_labels(data)
    columns = list(inputs[0])
    assert inputs == [data[columns].loc[labels[i]].to_dict() for i in (0, 250, 499, 749)]
    assert golden(churn, "--rows", "0").returncode == 2


def test_a_model_file_that_does_not_match_its_sha256_is_refused(churn):
    before = (churn / "tests" / "golden" / "sample.json").read_text()
    edit_json(churn / "service" / "config.json", model=dict(read_json(churn / "service" / "config.json")["model"], sha256="0" * 64))
    proc = golden(churn)
    assert proc.returncode == 2
    assert "model/churn_model.joblib has sha256" in proc.stderr and "expects " + "0" * 64 in proc.stderr
    assert (churn / "tests" / "golden" / "sample.json").read_text() == before


def test_feature_code_that_drops_rows_fails_and_keeps_the_sample(churn):
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace(
        "    return X\n", "    X = X[X[\"support_calls\"] > 2]  # keeps the frame's index\n    return X\n"))
    before = (churn / "tests" / "golden" / "sample.json").read_text()
    proc = golden(churn, "--rows", "10")
    # training itself breaks: X no longer has y's rows (the notebook's code path is the judge)
    assert proc.returncode == 1
    assert "failed at step 'train': ValueError: Found input variables with inconsistent numbers of samples" in proc.stderr
    assert (churn / "tests" / "golden" / "sample.json").read_text() == before


def test_feature_code_that_drops_a_record_fails_saying_the_service_could_not_answer(churn):
    # rows dropped only where the target is missing: training is unchanged, one record is not
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace(
        "    return X\n", "    X = X[df[\"churned\"].notna()]\n    return X\n"))
    proc = golden(churn, "--rows", "10")
    assert proc.returncode == 1
    assert "common/features.py returns 0 rows for one record: it drops or adds rows" in proc.stderr


def test_a_model_that_does_not_reproduce_fails_unless_the_run_was_unseeded(churn):
    steps = churn / "pipeline" / "steps.py"
    steps.write_text(steps.read_text().replace("random_state=seed, n_jobs=1", "random_state=seed + 1, n_jobs=1"))
    proc = golden(churn, "--rows", "20")
    assert proc.returncode == 1
    assert "retraining did not reproduce the run's model" in proc.stderr
    # a run that drew randomness without a seed: the sample says so instead of failing at random
    edit_json(churn / "pipeline" / "config.json", unseeded=["sklearn.ensemble.RandomForestClassifier.fit(random_state=None)"])
    proc = golden(churn, "--rows", "20")
    assert proc.returncode == 0, proc.stderr
    assert "Note: the run drew randomness without a seed" in proc.stdout
    sample = strict_json(churn / "tests" / "golden" / "sample.json")
    assert sample["reproduced"] is False and "retraining gives another model" in sample["note"]
    differing = [r for r in sample["rows"] if r["notebook"]["probability"] != pytest.approx(r["probability"], abs=1e-9)]
    assert differing, "the retrained model differs from the run's"


def test_nan_inputs_become_null(churn):
    data_file = churn.parent / "data" / "customers.csv"
    frame = pd.read_csv(data_file)
    first = held_out_labels(frame)[0]
    frame.loc[first, "monthly_charges"] = np.nan
    frame.to_csv(data_file, index=False)
    training = read_json(churn / "contracts" / "training.schema.json")
    training["properties"]["monthly_charges"]["type"] = ["number", "null"]
    (churn / "contracts" / "training.schema.json").write_text(json.dumps(training))
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace("    return X\n", "    return X.fillna(0)\n"))
    edit_json(churn / "pipeline" / "config.json", unseeded=["the data changed in this test"])
    proc = golden(churn, "--rows", "3")
    assert proc.returncode == 0, proc.stderr
    rows = strict_json(churn / "tests" / "golden" / "sample.json")["rows"]
    assert rows[0]["input"]["monthly_charges"] is None
    assert rows[1]["input"]["monthly_charges"] is not None


def test_a_feature_matrix_without_columns_writes_no_column_list(churn):
    features = churn / "common" / "features.py"
    features.write_text(features.read_text().replace(
        "    return X\n", "    return X.reindex(columns=%r, fill_value=0).to_numpy(dtype=float)\n" % FEATURE_COLUMNS))
    proc = golden(churn, "--rows", "5")
    assert proc.returncode == 0, proc.stderr
    assert "Removed model/feature_columns.json" in proc.stdout
    assert not (churn / "model" / "feature_columns.json").exists()
    assert len(read_json(churn / "tests" / "golden" / "sample.json")["rows"]) == 5


def test_json_safe_and_predictions_helpers(churn, use_project):
    use_project(churn)
    from pipeline.golden import json_safe, pick_positions, predictions, same_prediction
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
    assert same_prediction({"prediction": 1.0, "probability": None}, {"prediction": 1.0 + 1e-13, "probability": None})
    assert not same_prediction({"prediction": 1.0, "probability": None}, {"prediction": 1.001, "probability": None})
    assert same_prediction({"prediction": "yes", "probability": 0.7}, {"prediction": "yes", "probability": 0.7 + 1e-12})
    assert not same_prediction({"prediction": "yes", "probability": 0.7}, {"prediction": "no", "probability": 0.7})
