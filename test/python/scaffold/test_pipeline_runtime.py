"""The generated project's pipeline runner (pipeline/run.py, validation.py, evaluate.py,
framework.py), on the churn project of fixture.py.

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
"""
import logging
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline_fixture_helpers import (churn, clean_env, edit_json, read_json, run_module,  # noqa: F401 (fixtures)
                                      sha256_of, use_project)

TIME_AND_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) ", re.M)


def summary_of(state):
    return read_json(state / "reports" / "pipeline-run.json")


def broken_data_dir(tmp_path, churn_root, extra_rows):
    """A copy of the notebook's folder whose data has *extra_rows* appended (for NB2PROD_WORKDIR)."""
    workdir = tmp_path / "other-data"
    shutil.copytree(churn_root.parent / "data", workdir / "data")
    frame = pd.read_csv(workdir / "data" / "customers.csv")
    frame = pd.concat([frame, pd.DataFrame(extra_rows)], ignore_index=True)
    frame.to_csv(workdir / "data" / "customers.csv", index=False)
    return workdir


# --------------------------------------------------------------------------------------------
# python -m pipeline

def test_a_full_run_trains_evaluates_and_writes_the_summary(churn, tmp_path):
    state = tmp_path / "state"
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=state))
    assert proc.returncode == 0, proc.stderr

    summary = summary_of(state)
    assert summary["status"] == "succeeded" and summary["failed_step"] is None
    assert [(s["name"], s["status"], s["attempts"]) for s in summary["steps"]] == [
        ("load_data", "succeeded", 1), ("features", "succeeded", 1), ("train", "succeeded", 1),
        ("evaluate", "succeeded", 1), ("save_the_model", "succeeded", 1)]
    assert all(s["duration_s"] >= 0 for s in summary["steps"])
    assert summary["steps"][1]["outputs"] == {"X": "DataFrame 3000 rows x 10 columns", "y": "Series 3000 (int64)"}
    assert summary["params"] == {"n_estimators": 200, "max_depth": 8, "test_size": 0.25, "seed": 42}
    assert summary["quarantine"] == [{"step": "load_data", "frame": "df", "schema": "contracts/training.schema.json",
                                      "rows": 3000, "quarantined": 0, "share": 0.0, "file": None}]
    assert summary["run_id"] is None and summary["store"] is None
    assert summary["workdir"] == str(churn.parent)
    model = churn.parent / "models" / "churn_model.joblib"
    assert summary["model_output"] == {"path": "models/churn_model.joblib", "absolute": str(model),
                                       "exists": True, "sha256": sha256_of(model)}
    # same data, parameters and seed as the model the project ships: the very same file
    assert summary["model_output"]["sha256"] == read_json(churn / "service" / "config.json")["model"]["sha256"]

    metrics = read_json(state / "reports" / "metrics.json")
    assert metrics["task"] == summary["task"] == "classification"
    assert set(metrics["metrics"]) == {"accuracy", "f1", "roc_auc"} and metrics["rows"] == 750
    assert summary["metrics"] == metrics["metrics"]
    assert 0.5 < metrics["metrics"]["roc_auc"] <= 1

    log = proc.stderr
    assert TIME_AND_LEVEL.search(log)
    for step in ("load_data", "features", "train", "evaluate", "save_the_model"):
        assert re.search(r"step %s done in \d+\.\d\d s" % step, log)
    assert "outputs: X_test = DataFrame 750 rows x 10 columns, y_test = Series 750 (int64), model = RandomForestClassifier" in log
    assert "df: all 3000 rows meet contracts/training.schema.json" in log
    assert "one-year" not in log and "98.65" not in log, "the log shows shapes, never data"
    assert not (churn / "var").exists(), "NB2PROD_STATE_DIR replaces var/"


def test_param_overrides_are_parsed_as_json_and_used_by_the_steps(churn, tmp_path):
    state = tmp_path / "state"
    proc = run_module(churn, "pipeline", "--param", "n_estimators=5", "--param", "max_depth=2",
                      "--param", "test_size=0.5", env=clean_env(NB2PROD_STATE_DIR=state))
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(state)
    assert summary["params"] == {"n_estimators": 5, "max_depth": 2, "test_size": 0.5, "seed": 42}
    assert read_json(state / "reports" / "metrics.json")["rows"] == 1500
    assert "parameters: max_depth=2, n_estimators=5, seed=42, test_size=0.5" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--param", "n_trees=5"], "unknown parameter n_trees: the pipeline's parameters are max_depth, n_estimators, seed, test_size"),
    (["--param", "max_depth"], "--param takes name=value"),
    (["--until", "deploy"], "--until 'deploy' is not a step; the steps are load_data, features, train, evaluate, save_the_model"),
    (["--retries", "-1"], "--retries must be 0 or more"),
])
def test_usage_errors_exit_2_and_say_what_is_wrong(churn, tmp_path, args, message):
    proc = run_module(churn, "pipeline", *args, env=clean_env(NB2PROD_STATE_DIR=tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "reports").exists()


def test_an_unknown_option_is_a_usage_error(churn):
    proc = run_module(churn, "pipeline", "--fast")
    assert proc.returncode == 2 and "unrecognized arguments: --fast" in proc.stderr


def test_until_stops_after_the_step_without_evaluation_or_summary(churn, tmp_path):
    proc = run_module(churn, "pipeline", "--until", "features", env=clean_env(NB2PROD_STATE_DIR=tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "step features done" in proc.stderr and "step 3 of 5" not in proc.stderr
    assert "stopped after step features" in proc.stderr
    assert not (tmp_path / "reports").exists()


def test_a_failing_step_exits_1_naming_it_and_the_summary_says_so(churn, tmp_path):
    steps = churn / "pipeline" / "steps.py"
    steps.write_text(steps.read_text().replace('    y = df["churned"]\n', '    y = df["churn"]\n'))
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=tmp_path))
    assert proc.returncode == 1
    assert "python -m pipeline: failed at step 'features': KeyError: 'churn'" in proc.stderr
    assert "Traceback" in proc.stderr  # the step's traceback is logged
    summary = summary_of(tmp_path)
    assert summary["status"] == "failed" and summary["failed_step"] == "features"
    assert [s["status"] for s in summary["steps"]] == ["succeeded", "failed", "not run", "not run", "not run"]
    assert summary["metrics"] is None


def test_a_workdir_without_the_data_is_a_step_failure_with_retries(churn, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=tmp_path / "state", NB2PROD_WORKDIR=empty,
                                                       NB2PROD_RETRY_BACKOFF_SECONDS="0.01"))
    assert proc.returncode == 1
    # load_data has @step(retries=2): three attempts, each failure logged, waits doubling
    assert "step load_data: attempt 1 of 3 failed: FileNotFoundError" in proc.stderr
    assert "retrying in 0.01 s" in proc.stderr and "retrying in 0.02 s" in proc.stderr
    assert "failed at step 'load_data'" in proc.stderr
    assert summary_of(tmp_path / "state")["steps"][0]["attempts"] == 3


def test_a_missing_workdir_is_a_usage_error(churn, tmp_path):
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_WORKDIR=tmp_path / "nowhere"))
    assert proc.returncode == 2 and "NB2PROD_WORKDIR" in proc.stderr


# --------------------------------------------------------------------------------------------
# Quarantine

BAD_ROWS = [
    {"tenure_months": -3, "monthly_charges": 50.0, "contract": "one-year", "payment_method": "card", "support_calls": 1, "churned": 0},
    {"tenure_months": 10, "monthly_charges": 50.0, "contract": "weekly", "payment_method": "card", "support_calls": 1, "churned": 0},
    {"tenure_months": 10, "monthly_charges": 50.0, "contract": "one-year", "payment_method": "card", "support_calls": None, "churned": 1},
]


def test_bad_rows_are_quarantined_with_reasons_and_training_goes_on(churn, tmp_path):
    workdir = broken_data_dir(tmp_path, churn, BAD_ROWS)
    state = tmp_path / "state"
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=state, NB2PROD_WORKDIR=workdir))
    assert proc.returncode == 0, proc.stderr

    files = list((state / "quarantine").glob("df-*.csv"))
    assert len(files) == 1 and re.fullmatch(r"df-\d{8}T\d{6}Z\.csv", files[0].name)
    quarantined = pd.read_csv(files[0])
    assert list(quarantined.columns) == ["tenure_months", "monthly_charges", "contract", "payment_method",
                                         "support_calls", "churned", "_nb2prod_reason"]
    assert quarantined["_nb2prod_reason"].tolist() == [
        "tenure_months: -3 is below the minimum 1",
        "contract: 'weekly' is not one of 'month-to-month', 'one-year', 'two-year'",
        "support_calls: missing",
    ]
    summary = summary_of(state)
    assert summary["quarantine"][0] == {"step": "load_data", "frame": "df", "schema": "contracts/training.schema.json",
                                        "rows": 3003, "quarantined": 3, "share": 0.000999, "file": str(files[0])}
    assert summary["steps"][0]["outputs"]["df"] == "DataFrame 3003 rows x 6 columns"
    assert "df: 3 of 3003 rows (0.10%) break contracts/training.schema.json and were quarantined" in proc.stderr
    assert "the other 3000 go on" in proc.stderr
    assert "X = DataFrame 3000 rows x 10 columns" in proc.stderr, "the features see the good rows only"


def test_too_many_bad_rows_fail_the_run_but_keep_the_quarantine_file(churn, tmp_path):
    workdir = broken_data_dir(tmp_path, churn, BAD_ROWS * 60)  # 180 of 3180 rows: 5.7% > 5%
    state = tmp_path / "state"
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=state, NB2PROD_WORKDIR=workdir))
    assert proc.returncode == 1
    assert "failed at step 'load_data'" in proc.stderr
    assert "5.66% of the rows of 'df' (180 of 3180) break contracts/training.schema.json, above max_quarantine_share 5.00%" in proc.stderr
    assert len(pd.read_csv(next((state / "quarantine").glob("df-*.csv")))) == 180
    summary = summary_of(state)
    assert summary["status"] == "failed" and summary["failed_step"] == "load_data"
    assert summary["steps"][0]["status"] == "failed" and summary["steps"][1]["status"] == "not run"


def test_max_quarantine_share_is_read_from_the_config(churn, tmp_path):
    edit_json(churn / "pipeline" / "config.json", max_quarantine_share=0.1)
    workdir = broken_data_dir(tmp_path, churn, BAD_ROWS * 60)
    proc = run_module(churn, "pipeline", "--until", "load_data",
                      env=clean_env(NB2PROD_STATE_DIR=tmp_path / "state", NB2PROD_WORKDIR=workdir))
    assert proc.returncode == 0, proc.stderr


def test_a_missing_required_column_fails_the_validated_step(churn, tmp_path):
    workdir = tmp_path / "wd"
    (workdir / "data").mkdir(parents=True)
    pd.read_csv(churn.parent / "data" / "customers.csv").drop(columns=["support_calls"]).to_csv(
        workdir / "data" / "customers.csv", index=False)
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=tmp_path / "s", NB2PROD_WORKDIR=workdir))
    assert proc.returncode == 1
    assert "failed at step 'load_data'" in proc.stderr
    assert "the frame has no column 'support_calls' required by the contract" in proc.stderr
    assert not (tmp_path / "s" / "quarantine").exists()


def test_quarantine_files_do_not_overwrite_each_other(churn, use_project, tmp_path):
    use_project(churn)
    from pipeline.validation import quarantine_file
    import datetime as dt
    now = dt.datetime(2025, 1, 31, 12, 0, 0, tzinfo=dt.timezone.utc)
    first = quarantine_file(tmp_path, "df", now)
    first.write_text("x")
    assert first.name == "df-20250131T120000Z.csv"
    assert quarantine_file(tmp_path, "df", now).name == "df-20250131T120000Z-2.csv"


# --------------------------------------------------------------------------------------------
# In-process: run_pipeline, run_step, the step framework

def test_run_pipeline_returns_the_namespace_with_params_applied(churn, use_project, tmp_path, monkeypatch):
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(tmp_path))
    use_project(churn)
    from pipeline.run import run_pipeline
    namespace = run_pipeline(params={"n_estimators": 3, "max_depth": 2})
    assert namespace["model"].n_estimators == 3 and namespace["model"].max_depth == 2
    # Steps return what later steps (or the evaluation) read: the notebook's own metrics dict is not.
    assert set(namespace) == {"df", "X", "y", "X_test", "y_test", "model"}
    assert namespace.summary["status"] == "succeeded"
    assert summary_of(tmp_path)["params"]["n_estimators"] == 3


def test_run_pipeline_until_features_is_what_golden_uses(churn, use_project, tmp_path, monkeypatch):
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(tmp_path))
    use_project(churn)
    before = os.getcwd()
    from pipeline.run import run_pipeline
    namespace = run_pipeline(until="features")
    assert set(namespace) == {"df", "X", "y"}
    assert namespace.summary["status"] == "partial"
    assert os.getcwd() == before, "the working directory is restored"
    assert not (tmp_path / "reports").exists()


def test_parse_param_assignments_reads_json_else_strings(churn, use_project):
    use_project(churn)
    from pipeline.framework import UsageError
    from pipeline.run import parse_param_assignments
    assert parse_param_assignments(["a=1", "b=0.5", "c=true", "d=lbfgs", 'e="7"', "f=[1, 2]", "g=null", "h=x=y"]) == {
        "a": 1, "b": 0.5, "c": True, "d": "lbfgs", "e": "7", "f": [1, 2], "g": None, "h": "x=y"}
    with pytest.raises(UsageError):
        parse_param_assignments(["=3"])


def test_retries_wait_half_a_second_then_double(churn, use_project, caplog):
    use_project(churn)
    from pipeline.framework import PipelineError, step
    from pipeline.run import run_step

    @step(outputs=["value"], retries=3)
    def always_down():
        raise ConnectionError("service unavailable")

    waits = []
    caplog.set_level(logging.INFO, logger="nb2prod.pipeline")
    with pytest.raises(PipelineError) as failure:
        run_step(always_down, {}, {}, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]
    assert failure.value.step == "always_down" and failure.value.attempts == 4
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failed: ConnectionError: service unavailable; retrying" in m for m in messages) == 3
    assert any(r.levelname == "ERROR" and "attempt 4 of 4" in r.getMessage() for r in caplog.records)


def test_a_step_that_fails_twice_then_succeeds_runs_three_times(churn, use_project, caplog, tmp_path, monkeypatch):
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(tmp_path))
    use_project(churn)
    from pipeline.framework import step
    from pipeline.run import run_pipeline
    calls = []

    @step(outputs=["rows"], retries=2)
    def fetch():
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("try %d timed out" % len(calls))
        return [1, 2, 3]

    @step(outputs=["total"])
    def add(rows, *, offset=0):
        return sum(rows) + offset

    caplog.set_level(logging.INFO, logger="nb2prod.pipeline")
    namespace = run_pipeline(steps=[fetch, add], params={"offset": 4}, backoff_base=0.001)
    assert namespace["total"] == 10 and len(calls) == 3
    steps = summary_of(tmp_path)["steps"]
    assert [(s["name"], s["attempts"]) for s in steps] == [("fetch", 3), ("add", 1)]
    assert "step fetch done" in caplog.text and "after 3 attempts" in caplog.text
    assert "evaluation skipped" in caplog.text  # the custom steps produce no model


def test_missing_inputs_parameters_and_outputs_are_errors_naming_the_step(churn, use_project):
    use_project(churn)
    from pipeline.framework import PipelineError, UsageError, step
    from pipeline.run import run_step

    @step(outputs=["X"])
    def features(df):
        return df

    with pytest.raises(PipelineError, match="step 'features' needs 'df', which no earlier step produced") as e:
        run_step(features, {"raw": 1}, {})
    assert e.value.step == "features"

    @step(outputs=["model"])
    def train(X, *, depth):
        return depth

    with pytest.raises(PipelineError, match="step 'train' needs the parameter 'depth'.*--param depth=VALUE"):
        run_step(train, {"X": 1}, {})

    @step(outputs=["a", "b"])
    def pair():
        return 1

    with pytest.raises(PipelineError, match=r"declares outputs \['a', 'b'\] but returned int"):
        run_step(pair, {}, {})

    def plain():
        return 1

    with pytest.raises(UsageError, match="not a step"):
        run_step(plain, {}, {})


def test_the_step_decorator_returns_the_function_unchanged(churn, use_project):
    use_project(churn)
    from pipeline.framework import StepInfo, step

    def load():
        return 5

    assert step(outputs=["df"], retries=2)(load) is load and load() == 5
    assert load.__nb2prod_step__ == StepInfo("load", ("df",), 2)
    assert step(outputs="df")(lambda: 1).__nb2prod_step__.outputs == ("df",)
    for bad in ({"outputs": ["not a name"]}, {"outputs": ["a", "a"]}, {"retries": -1}, {"retries": True}):
        with pytest.raises(ValueError):
            step(**bad)


def test_a_tracked_run_records_its_run_id_and_store(churn, use_project, tmp_path, monkeypatch):
    # what `nb2prod run` sets in the processes it tracks (the real thing: test_pipeline_register.py)
    store = tmp_path / ".nb2prod"
    events = store / "tmp" / "01JRUN" / "events.jsonl"
    events.parent.mkdir(parents=True)
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NB2PROD_RUN_ID", "01JRUN")
    monkeypatch.setenv("NB2PROD_EVENTS", str(events))
    use_project(churn)
    from pipeline.run import run_pipeline
    run_pipeline(params={"n_estimators": 3})
    summary = summary_of(tmp_path / "state")
    assert summary["run_id"] == "01JRUN" and summary["store"] == str(store)
    assert summary["started_in"] == os.getcwd(), "register runs nb2prod where the run was started"


# --------------------------------------------------------------------------------------------
# Evaluation

def _evaluate(use_project, churn, tmp_path, model, X, y, task=None, run_metrics=None):
    use_project(churn)
    from pipeline.evaluate import evaluate
    service = {"task": task, "run_metrics": run_metrics}
    config = {"evaluation": {"step": "train", "model": "m", "X": "X", "y": "y"}}
    return evaluate(config, {"m": model, "X": X, "y": y}, service, tmp_path)


def test_regression_gets_rmse_mae_and_r2(churn, use_project, tmp_path):
    from sklearn.linear_model import LinearRegression
    X = np.arange(20, dtype=float).reshape(-1, 1)
    y = 2 * X[:, 0] + np.where(np.arange(20) % 2, 1.0, -1.0)
    result = _evaluate(use_project, churn, tmp_path, LinearRegression().fit(X, y), X, y)
    assert result["task"] == "regression"
    assert set(result["metrics"]) == {"rmse", "mae", "r2"}
    assert result["metrics"]["rmse"] == pytest.approx(1.0, abs=0.01)
    assert result["metrics"]["mae"] == pytest.approx(1.0, abs=0.01)
    assert read_json(tmp_path / "metrics.json")["metrics"] == result["metrics"]


def test_binary_string_labels_take_the_larger_label_as_positive(churn, use_project, tmp_path):
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = np.where(X[:, 0] > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    metrics = _evaluate(use_project, churn, tmp_path, model, X, y)["metrics"]
    from sklearn.metrics import f1_score
    assert metrics["f1"] == pytest.approx(f1_score(y, model.predict(X), pos_label="yes"))
    assert set(metrics) == {"accuracy", "f1", "roc_auc"} and metrics["roc_auc"] > 0.9


def test_multiclass_f1_is_macro_averaged_and_has_no_roc_auc(churn, use_project, tmp_path):
    from sklearn.metrics import f1_score
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    metrics = _evaluate(use_project, churn, tmp_path, model, X, y)["metrics"]
    assert set(metrics) == {"accuracy", "f1"}
    assert metrics["f1"] == pytest.approx(f1_score(y, model.predict(X), average="macro"))


def test_a_model_sklearn_cannot_classify_uses_the_configured_task(churn, use_project, tmp_path):
    class Threshold(object):
        def predict(self, X):
            return (np.asarray(X)[:, 0] > 0).astype(int)

    X = np.array([[-1.0], [1.0], [2.0], [-2.0]])
    result = _evaluate(use_project, churn, tmp_path, Threshold(), X, np.array([0, 1, 1, 1]), task="classification")
    assert result["metrics"]["accuracy"] == 0.75 and "roc_auc" not in result["metrics"]
    unknown = _evaluate(use_project, churn, tmp_path, Threshold(), X, np.array([0, 1, 1, 1]))
    assert unknown["metrics"] is None and "set \"task\" in service/config.json" in unknown["skipped"]


def test_a_duck_typed_model_that_declares_its_estimator_type_is_evaluated_as_such(churn, use_project, tmp_path):
    # scikit-learn 1.2 read _estimator_type; >= 1.6 reads tags and raises for such a model
    class Doubler(object):
        _estimator_type = "regressor"

        def predict(self, X):
            return 2 * np.asarray(X)[:, 0]

    X = np.array([[1.0], [2.0], [3.0]])
    result = _evaluate(use_project, churn, tmp_path, Doubler(), X, np.array([2.0, 4.0, 7.0]), task="classification")
    assert result["task"] == "regression" and result["metrics"]["mae"] == pytest.approx(1 / 3)


def test_differences_from_the_notebook_run_are_logged_and_reported(churn, use_project, tmp_path, caplog):
    from sklearn.linear_model import LogisticRegression
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    caplog.set_level(logging.INFO, logger="nb2prod.pipeline")
    _evaluate(use_project, churn, tmp_path, LogisticRegression().fit(X, y), X, y,
              run_metrics={"accuracy": 0.5, "roc_auc": 1.0, "log_loss": 0.3})
    report = read_json(tmp_path / "metrics.json")
    assert report["notebook_run_differences"]["accuracy"] == {"pipeline": 1.0, "notebook_run": 0.5, "difference": 0.5}
    assert report["notebook_run_differences"]["roc_auc"]["difference"] == 0
    warning = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warning) == 1 and "accuracy: pipeline 1 vs the notebook run 0.5" in warning[0].getMessage()
    assert "notebook run metrics the pipeline does not compute: log_loss" in caplog.text


def test_evaluation_null_is_skipped_with_the_reason_logged(churn, tmp_path):
    edit_json(churn / "pipeline" / "config.json", evaluation=None)
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "evaluation skipped: pipeline/config.json \"evaluation\" is null: the notebook has no held-out split" in proc.stderr
    summary = summary_of(tmp_path)
    assert summary["metrics"] is None and "no held-out split" in summary["evaluation_skipped"]
    assert not (tmp_path / "reports" / "metrics.json").exists()


def test_run_metrics_in_the_service_config_are_compared_in_a_full_run(churn, tmp_path):
    service = churn / "service" / "config.json"
    edit_json(service, run_metrics={"accuracy": 0.1, "roc_auc": 0.1})
    proc = run_module(churn, "pipeline", env=clean_env(NB2PROD_STATE_DIR=tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"WARNING +accuracy: pipeline 0\.\d+ vs the notebook run 0\.1 \(difference \+0\.\d+\)", proc.stderr)
    assert set(read_json(tmp_path / "reports" / "metrics.json")["notebook_run_differences"]) == {"accuracy", "roc_auc"}
