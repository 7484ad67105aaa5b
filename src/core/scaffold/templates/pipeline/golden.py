"""``python -m pipeline.golden [--rows 20]``: writes the golden sample the service is tested with.

It runs the notebook's code path: every step of the pipeline, training included, on the
notebook's data (the model goes to a temporary file, never over the notebook's: see
common/bundle.py model_output). Then, for rows spread over the held-out set (the raw rows of the
table behind the evaluation split, mapped through the DataFrame index; the whole table when
the notebook has no split or its held-out matrix has no index):

1. the notebook's predictions: the held-out matrix as the notebook computed it, through the
   fitted steps the notebook applies to it, into the model;
2. the same rows as the service gets them (the request fields only, one record per row, through
   common/features.py and the fitted steps composed with the model) must give the same
   predictions: otherwise the service would not compute what the notebook computes (feature
   code that reads a column requests do not carry, a step nb2prod did not see) and this fails;
3. the shipped model (service/config.json "model.path": the run's own fitted steps and model,
   checked against its sha256) predicts the rows: the golden predictions. They equal the
   notebook's when retraining reproduces the run. When the run drew randomness without a seed
   (pipeline/config.json "unseeded"), they may not, and the sample says so ("reproduced":
   false, with why) instead of failing at random; a seeded run that does not reproduce fails.

It writes:
- tests/golden/sample.json: ``{"model_sha256", "task", "reproduced", "unseeded", "note",
  "rows": [{"input", "prediction", "probability", "notebook": {"prediction", "probability"}}]}``,
  inputs restricted to the service's input columns (and its id column);
- model/feature_columns.json: the feature matrix's column names, when it is a DataFrame (the
  service aligns one-record feature frames to them); removed when it is not.
"""
import argparse
import datetime as _dt
import json
import math
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from pipeline import settings
from pipeline.framework import PipelineError, UsageError
from common.hashing import file_sha256 as sha256_of

DEFAULT_ROWS = 20
PROBABILITY_TOLERANCE = 1e-9


def json_safe(value: Any) -> Any:
    """A value as plain JSON: NaN/NaT -> null, numpy scalars -> Python, timestamps -> ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def load_model(service_config: Mapping[str, Any], root: Path = settings.PROJECT_ROOT):
    """The model at service/config.json model.path, after checking its sha256."""
    model_spec = service_config.get("model") or {}
    if not model_spec.get("path"):
        raise UsageError('service/config.json has no "model.path"')
    path = root / model_spec["path"]
    if not path.is_file():
        raise UsageError("the model file %s (service/config.json model.path) is missing" % model_spec["path"])
    expected = model_spec.get("sha256")
    actual = sha256_of(path)
    if expected and actual != expected:
        raise UsageError(
            "%s has sha256 %s but service/config.json expects %s: the file is not the model the "
            "project was generated for. Put the right file back or regenerate with nb2prod scaffold."
            % (model_spec["path"], actual, expected))
    if model_spec.get("format") == "pickle":
        with open(path, "rb") as fh:
            return pickle.load(fh), actual
    import joblib
    return joblib.load(path), actual


def pick_positions(count: int, wanted: int) -> List[int]:
    """*wanted* row positions evenly spaced over 0..count-1 (all rows when fewer)."""
    if count <= 0 or wanted <= 0:
        return []
    if wanted >= count:
        return list(range(count))
    return sorted(set(int(round(p)) for p in np.linspace(0, count - 1, wanted)))


def predictions(model: Any, X_rows: Any) -> List[Dict[str, Any]]:
    """[{"prediction", "probability"}]: probability of the predicted class when the model has one."""
    count = X_rows.shape[0] if getattr(X_rows, "shape", None) else len(X_rows)
    if not count:
        return []
    predicted = np.asarray(model.predict(X_rows))
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    probabilities = [None] * len(predicted)  # type: List[Optional[float]]
    if hasattr(model, "predict_proba") and predicted.ndim == 1:
        proba = np.asarray(model.predict_proba(X_rows))
        classes = list(getattr(model, "classes_", []))
        for i, label in enumerate(predicted):
            column = classes.index(label) if label in classes else int(np.argmax(proba[i]))
            probabilities[i] = float(proba[i, column])
    return [{"prediction": json_safe(p), "probability": q} for p, q in zip(predicted, probabilities)]


def same_prediction(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """Equal predictions (regression values within 1e-9 relative) and probabilities within 1e-9."""
    pa, pb = a["prediction"], b["prediction"]
    if isinstance(pa, float) or isinstance(pb, float):
        if not (isinstance(pa, (int, float)) and isinstance(pb, (int, float))):
            return False
        if not math.isclose(pa, pb, rel_tol=1e-9, abs_tol=1e-12):
            return False
    elif pa != pb:
        return False
    qa, qb = a["probability"], b["probability"]
    if qa is None or qb is None:
        return qa is None and qb is None
    return abs(qa - qb) <= PROBABILITY_TOLERANCE


def _rows_of(X: Any, positions: List[int]) -> Any:
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[positions]
    if hasattr(X, "tocsr"):
        return X.tocsr()[positions]
    return np.asarray(X)[positions]


def _apply(steps: Sequence[Any], X: Any) -> Any:
    for step in steps:
        X = step.transform(X)
    return X


def _held_out(namespace: Mapping[str, Any], config: Mapping[str, Any], frame: pd.DataFrame):
    """(raw rows of the table, the notebook's matrix for them or None, the steps the notebook applies to it)."""
    evaluation = config.get("evaluation") or {}
    serving = config.get("serving") or {}
    if evaluation.get("frame") and isinstance(namespace.get(evaluation.get("X")), pd.DataFrame):
        return namespace[evaluation["X"]], None, serving.get("chain") or []
    X = namespace.get(evaluation.get("X")) if evaluation else None
    if isinstance(X, (pd.DataFrame, pd.Series)) and frame.index.is_unique and X.index.isin(frame.index).all():
        return frame.loc[X.index], X, evaluation.get("chain") or []
    return frame, None, serving.get("chain") or []


def _describe(record: Dict[str, Any]) -> str:
    return json.dumps(record, default=str)[:300]


def write_golden(rows: int = DEFAULT_ROWS, root: Path = settings.PROJECT_ROOT) -> Dict[str, Any]:
    """Runs the notebook's code path and writes the golden files; returns what it wrote."""
    from common.bundle import MODEL_OUTPUT_ENV, serving_bundle
    from common.frames import align_columns, records_to_frame
    from pipeline.evaluate import decide_task
    from pipeline.framework import step_info
    from pipeline.run import load_steps, run_pipeline

    config = settings.load_config(root)
    service_config = settings.load_service_config(root)
    if service_config is None:
        raise UsageError("service/config.json is missing: golden samples need the service's model "
                         "and input columns")
    serving = config.get("serving") or {}
    if not all(isinstance(serving.get(k), str) for k in ("model", "frame")):
        raise UsageError('pipeline/config.json "serving" must name "model" and "frame"')
    shipped, sha256 = load_model(service_config, root)  # before running anything: fail fast

    # The notebook's code path: every step, training included; the model to a temporary file.
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    previous = os.environ.get(MODEL_OUTPUT_ENV)
    with tempfile.TemporaryDirectory(prefix="nb2prod-golden-") as scratch:
        os.environ[MODEL_OUTPUT_ENV] = os.path.join(scratch, Path(str(config.get("model_output") or "model")).name)
        try:
            last = step_info(load_steps()[-1]).name
            namespace = run_pipeline(until=last, write_summary=False)
        finally:
            if previous is None:
                os.environ.pop(MODEL_OUTPUT_ENV, None)
            else:
                os.environ[MODEL_OUTPUT_ENV] = previous
    from common.features import build_features

    for name in [serving["model"], serving["frame"]] + list(serving.get("chain") or []):
        if name not in namespace:
            raise PipelineError("the pipeline did not produce %r (pipeline/config.json serving)" % name)
    frame = namespace[serving["frame"]]
    if not isinstance(frame, pd.DataFrame):
        raise PipelineError("%r is a %s, not a DataFrame" % (serving["frame"], type(frame).__name__))
    model = namespace[serving["model"]]
    if serving.get("attribute"):
        model = getattr(model, serving["attribute"])
    chain = [(name, namespace[name]) for name in serving.get("chain") or []]
    by_name = dict(chain)

    input_columns = list(service_config.get("input_columns") or [])
    id_column = service_config.get("id_column")
    missing = [c for c in input_columns + ([id_column] if id_column else []) if c not in frame.columns]
    if missing:
        raise PipelineError("the table %r has no column %s (service/config.json input_columns)"
                            % (serving["frame"], ", ".join(map(repr, missing))))

    # The feature matrix's columns, from the whole table (the service aligns one record to them).
    X_all = build_features(frame.copy())
    feature_columns = [str(c) for c in X_all.columns] if isinstance(X_all, pd.DataFrame) else None

    held, notebook_X, notebook_steps = _held_out(namespace, config, frame)
    positions = pick_positions(len(held), rows)
    raw = held.iloc[positions]

    # 1. the notebook's own path
    if notebook_X is not None:
        X_notebook = _apply([by_name[n] for n in notebook_steps], _rows_of(notebook_X, positions))
    else:
        X_notebook = _apply([step for _, step in chain], build_features(raw.copy()))
    notebook = predictions(model, X_notebook)

    # 2. as the service gets them: request fields only, one record per row
    wanted = input_columns + ([id_column] if id_column else [])
    records = [{c: json_safe(row[c]) for c in wanted} for _, row in raw.iterrows()]
    composed = serving_bundle(chain, model)
    def as_served(record: Dict[str, Any]) -> Any:
        """The matrix the service gives the model for one record."""
        try:
            X = build_features(records_to_frame([record], service_config["frame_columns"]))
        except Exception as error:
            raise PipelineError(
                "common/features.py fails on a record holding only the service's input columns (%s: %s): "
                "it reads a column requests do not carry; record %s" % (type(error).__name__, error, _describe(record)))
        rows_out = X.shape[0] if getattr(X, "shape", None) else len(X)
        if rows_out != 1:
            raise PipelineError(
                "common/features.py returns %d rows for one record: it drops or adds rows (a filter, dropna, "
                "a merge), so the service could not answer that record; keep row filters in the pipeline's "
                "steps; record %s" % (rows_out, _describe(record)))
        return align_columns(X, feature_columns)

    def predict_one(model: Any, X: Any, record: Dict[str, Any], which: str) -> Dict[str, Any]:
        try:
            return predictions(model, X)[0]
        except Exception as error:
            raise PipelineError(
                "%s cannot predict a record as the service builds it (%s: %s): the feature matrix of one "
                "record differs from training's (return a DataFrame from common/features.py so its columns "
                "can be aligned); record %s" % (which, type(error).__name__, error, _describe(record)))

    matrices = [as_served(record) for record in records]
    served_by_pipeline = [predict_one(composed, X, record, "the retrained model") for X, record in zip(matrices, records)]
    for index, (ours, theirs) in enumerate(zip(served_by_pipeline, notebook)):
        if not same_prediction(ours, theirs):
            raise PipelineError(
                "row %d: the notebook's code path predicts %r (probability %r) but the same row as the "
                "service gets it predicts %r (probability %r): the feature code reads columns requests do "
                "not carry, or the notebook applies something to the matrix that nb2prod did not see; "
                "record %s" % (index, theirs["prediction"], theirs["probability"], ours["prediction"],
                               ours["probability"], _describe(records[index])))

    # 3. the shipped model: the run's fitted steps and model
    served = [predict_one(shipped, X, record, "the shipped model") for X, record in zip(matrices, records)]
    unseeded = list(config.get("unseeded") or [])
    differing = [i for i, (a, b) in enumerate(zip(served, notebook)) if not same_prediction(a, b)]
    note = None
    if differing:
        if not unseeded:
            i = differing[0]
            raise PipelineError(
                "retraining did not reproduce the run's model: on %d of %d held-out rows the shipped model "
                "(from run %s) predicts otherwise than the model the pipeline just trained (row %d: %r "
                "against %r). The data, the parameters or the library versions differ from the run's, "
                "or the training draws randomness nb2prod did not see: seed it, track the notebook again "
                "and scaffold again." % (len(differing), len(served), service_config.get("run"), i,
                                         served[i]["prediction"], notebook[i]["prediction"]))
        note = ("the run drew randomness without a seed (%s): retraining gives another model, so %d of %d "
                "rows differ from the retrained model's predictions; the golden predictions are the run's "
                "model's, which the service serves" % (", ".join(unseeded), len(differing), len(served)))

    sample = {
        "model_sha256": sha256,
        "task": service_config.get("task") or decide_task(shipped, service_config),
        "reproduced": not differing,
        "unseeded": unseeded,
        "note": note,
        "rows": [{"input": record, **output, "notebook": theirs}
                 for record, output, theirs in zip(records, served, notebook)],
    }
    golden_path = root / "tests" / "golden" / "sample.json"
    golden_path.parent.mkdir(parents=True, exist_ok=True)
    with open(golden_path, "w", encoding="utf-8") as fh:
        json.dump(sample, fh, indent=2, allow_nan=False)
        fh.write("\n")
    written = {"sample": golden_path, "rows": len(sample["rows"]), "feature_columns": None,
               "removed": None, "note": note}
    columns_path = root / "model" / "feature_columns.json"
    if feature_columns is None:
        if columns_path.exists():  # X has no column names now: a stale list would misalign the service
            columns_path.unlink()
            written["removed"] = columns_path
    else:
        columns_path.parent.mkdir(parents=True, exist_ok=True)
        with open(columns_path, "w", encoding="utf-8") as fh:
            json.dump(feature_columns, fh, indent=2)
            fh.write("\n")
        written["feature_columns"] = columns_path
        written["columns"] = len(feature_columns)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    from pipeline.run import configure_logging

    parser = argparse.ArgumentParser(prog="python -m pipeline.golden",
                                     description="Write tests/golden/sample.json (and "
                                                 "model/feature_columns.json) from the training data.")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help="how many rows to sample (default %d)" % DEFAULT_ROWS)
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be 1 or more")
    configure_logging()
    try:
        written = write_golden(args.rows)
    except UsageError as error:
        print("python -m pipeline.golden: %s" % error, file=sys.stderr)
        return 2
    except PipelineError as error:
        where = " at step %r" % error.step if error.step else ""
        print("python -m pipeline.golden: failed%s: %s" % (where, error), file=sys.stderr)
        return 1
    print("Wrote %s (%d rows)" % (settings.shown(written["sample"]), written["rows"]))
    if written["feature_columns"] is not None:
        print("Wrote %s (%d columns)" % (settings.shown(written["feature_columns"]), written["columns"]))
    if written["removed"] is not None:
        print("Removed %s: the feature matrix is not a DataFrame, so it has no column names"
              % settings.shown(written["removed"]))
    if written["note"]:
        print("Note: %s" % written["note"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
