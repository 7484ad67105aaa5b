"""``python -m pipeline.golden [--rows 20]``: writes the golden sample the service is tested with.

Runs the pipeline up to the features step (config "features": no training), takes rows evenly
spaced over the feature matrix X (the training frame's rows at X's index, so rows the feature
code dropped are skipped), predicts them with the shipped model (service/config.json
"model.path", checked against its sha256 first) and writes:

- tests/golden/sample.json: ``{"model_sha256", "task", "rows": [{"input", "prediction",
  "probability"}]}``, inputs restricted to the service's input columns. The service must give
  the same predictions for these inputs: that catches training/serving skew in the features;
- model/feature_columns.json: X's column names, when X is a DataFrame (the service aligns
  one-record feature frames to them); removed when X is not a DataFrame.
"""
import argparse
import datetime as _dt
import json
import math
import pickle
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from pipeline import settings
from pipeline.framework import PipelineError, UsageError
from common.hashing import file_sha256 as sha256_of

DEFAULT_ROWS = 20


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


def sample_rows(frame: pd.DataFrame, X: Any, wanted: int):
    """The frame's rows and X's rows for *wanted* evenly spaced rows of X."""
    positions = pick_positions(len(X), wanted)
    if isinstance(X, (pd.DataFrame, pd.Series)):
        labels = X.index[positions]
        if not frame.index.is_unique:
            raise PipelineError("the training frame's index has duplicates, so X's rows cannot be "
                                "matched to the frame's: reset the frame's index in the feature code")
        unknown = [label for label in labels if label not in frame.index]
        if unknown:
            raise PipelineError("X has index labels that the training frame does not have (e.g. %r): "
                                "the feature code must keep the frame's index" % (unknown[0],))
        return frame.loc[labels], X.iloc[positions]
    if len(X) != len(frame):
        raise PipelineError("X is a %s with %d rows but the frame has %d: without an index, X's "
                            "rows cannot be matched to the frame's; return a DataFrame from the "
                            "feature code" % (type(X).__name__, len(X), len(frame)))
    return frame.iloc[positions], np.asarray(X)[positions]


def predictions(model: Any, X_rows: Any) -> List[Dict[str, Any]]:
    """[{"prediction", "probability"}]: probability of the predicted class when the model has one."""
    if not len(X_rows):
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


def write_golden(rows: int = DEFAULT_ROWS, root: Path = settings.PROJECT_ROOT) -> Dict[str, Any]:
    """Runs the pipeline up to the features step and writes the golden files; returns what it wrote."""
    from pipeline.evaluate import decide_task
    from pipeline.run import run_pipeline

    config = settings.load_config(root)
    service_config = settings.load_service_config(root)
    if service_config is None:
        raise UsageError("service/config.json is missing: golden samples need the service's model "
                         "and input columns")
    features = config.get("features") or {}
    if not all(isinstance(features.get(k), str) for k in ("step", "frame", "matrix")):
        raise UsageError('pipeline/config.json "features" must name "step", "frame" and "matrix"')
    model, sha256 = load_model(service_config, root)  # before running anything: fail fast

    namespace = run_pipeline(until=features["step"])
    for key in ("frame", "matrix"):
        if features[key] not in namespace:
            raise PipelineError("step %r did not produce %r (pipeline/config.json features.%s)"
                                % (features["step"], features[key], key), features["step"])
    frame, X = namespace[features["frame"]], namespace[features["matrix"]]
    if not isinstance(frame, pd.DataFrame):
        raise PipelineError("%r is a %s, not a DataFrame" % (features["frame"], type(frame).__name__))
    input_columns = service_config.get("input_columns") or [c for c in frame.columns
                                                           if c != service_config.get("target")]
    missing = [c for c in input_columns if c not in frame.columns]
    if missing:
        raise PipelineError("the frame %r has no column %s (service/config.json input_columns)"
                            % (features["frame"], ", ".join(map(repr, missing))))

    frame_rows, X_rows = sample_rows(frame, X, rows)
    outputs = predictions(model, X_rows)
    records = frame_rows[input_columns].to_dict(orient="records")
    sample = {
        "model_sha256": sha256,
        "task": service_config.get("task") or decide_task(model, service_config),
        "rows": [{"input": {str(k): json_safe(v) for k, v in record.items()}, **output}
                 for record, output in zip(records, outputs)],
    }
    golden_path = root / "tests" / "golden" / "sample.json"
    golden_path.parent.mkdir(parents=True, exist_ok=True)
    with open(golden_path, "w", encoding="utf-8") as fh:
        json.dump(sample, fh, indent=2, allow_nan=False)
        fh.write("\n")
    written = {"sample": golden_path, "rows": len(sample["rows"]), "feature_columns": None,
               "removed": None}
    columns_path = root / "model" / "feature_columns.json"
    if not isinstance(X, pd.DataFrame):
        if columns_path.exists():  # X has no column names now: a stale list would misalign the service
            columns_path.unlink()
            written["removed"] = columns_path
    else:
        columns_path.parent.mkdir(parents=True, exist_ok=True)
        with open(columns_path, "w", encoding="utf-8") as fh:
            json.dump([str(c) for c in X.columns], fh, indent=2)
            fh.write("\n")
        written["feature_columns"] = columns_path
        written["columns"] = len(X.columns)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
