"""The served model: the fitted steps the features go through, in order, then the model, as one
object the service loads and calls ``predict`` / ``predict_proba`` on. Never fitted here.

- ``serving_bundle(steps, model)``: a scikit-learn ``Pipeline([*steps, ("model", model)])`` of
  already fitted objects, or the model itself when there are no steps. The generated pipeline
  saves it where the notebook saved its model; ``nb2prod scaffold`` composes the same thing from
  the notebook run's own fitted objects (below), so the service serves what the run trained.
- ``model_output(path)``: where the pipeline writes the model: *path* (the notebook's), unless
  ``NB2PROD_MODEL_OUTPUT`` names another file (the golden step retrains into a temporary file,
  so computing the golden sample never replaces the notebook's model).

``python -m common.bundle compose SPEC.json OUT`` is what ``nb2prod scaffold`` runs (from its
copy of this file): it reads the run's fitted objects from the store (``objects/<sha256>``,
each hash checked), composes them with the run's model file, writes the bundle to OUT and prints
what it is (classes, input columns, an example row of the training data) as JSON.
"""
import hashlib
import io
import json
import math
import os
import pickle
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

MODEL_OUTPUT_ENV = "NB2PROD_MODEL_OUTPUT"


def serving_bundle(steps: Sequence[Tuple[str, Any]], model: Any) -> Any:
    """The fitted *steps* (name, transformer) then *model*, as one predictor; *model* alone
    when there are no steps."""
    steps = list(steps)
    if not steps:
        return model
    from sklearn.pipeline import Pipeline

    names = [name for name, _ in steps]
    final = "model" if "model" not in names else "final_model"
    return Pipeline(steps + [(final, model)])


def model_output(path: str) -> str:
    """*path*, or the file NB2PROD_MODEL_OUTPUT names."""
    return os.environ.get(MODEL_OUTPUT_ENV) or path


# ---- composing the run's objects (nb2prod scaffold) -----------------------------------------

class ComposeError(Exception):
    pass


def _verified(path: str, sha256: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as error:
        raise ComposeError("cannot read %s: %s" % (path, error))
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ComposeError("%s has sha256 %s, not %s: it is not the object the run kept" % (path, actual, sha256))
    return data


def _load(data: bytes, fmt: str, what: str) -> Any:
    try:
        if fmt == "pickle":
            return pickle.loads(data)
        import joblib

        return joblib.load(io.BytesIO(data))
    except Exception as error:
        raise ComposeError("%s could not be loaded (%s: %s): scaffold with the interpreter the notebook "
                           "ran with (--python), which has the libraries that wrote it" % (what, type(error).__name__, error))


def _dump(obj: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "pickle":
        pickle.dump(obj, buffer, protocol=4)
    else:
        import joblib

        joblib.dump(obj, buffer)
    return buffer.getvalue()


def json_value(value: Any) -> Any:
    """A table value as JSON: numpy scalars as Python, NaN as null."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (AttributeError, ValueError):
            pass
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)


def _example(data: Dict[str, Any], columns: List[str]) -> Optional[Dict[str, Any]]:
    """A real row of the training data (the first whose *columns* all have a value), or None."""
    import ast

    import pandas as pd

    path = data.get("path")
    if not path or not os.path.isfile(path):
        return None
    if data.get("sha256"):
        try:
            _verified(path, data["sha256"])
        except ComposeError:
            return None  # the file changed since the run: its rows are not the run's
    reader = getattr(pd, str(data.get("reader", "pandas.read_csv")).split(".")[-1], None)
    if reader is None:
        return None
    kwargs = {}
    for key, source in (data.get("args") or {}).items():
        try:
            kwargs[key] = ast.literal_eval(source)
        except (ValueError, SyntaxError):
            pass
    try:
        frame = reader(path, **kwargs)
    except Exception:
        return None
    wanted = [c for c in columns if c in frame.columns]
    complete = frame[wanted].notna().all(axis=1) if wanted else None
    position = int(complete.to_numpy().argmax()) if complete is not None and complete.any() else 0
    if not len(frame):
        return None
    row = frame.iloc[position]
    return {str(column): json_value(row[column]) for column in frame.columns}


def describe(bundle: Any) -> Dict[str, Any]:
    """What the service needs to know of the composed model."""
    info = {"classes": None, "feature_names_in": None, "n_features_in": None, "task": None}  # type: Dict[str, Any]
    classes = getattr(bundle, "classes_", None)
    if classes is not None:
        info["classes"] = [json_value(c) for c in list(classes)]
    names = getattr(bundle, "feature_names_in_", None)
    if names is not None:
        info["feature_names_in"] = [str(n) for n in names]
    count = getattr(bundle, "n_features_in_", None)
    if count is not None:
        info["n_features_in"] = int(count)
    try:
        from sklearn.base import is_classifier, is_regressor

        info["task"] = "classification" if is_classifier(bundle) else "regression" if is_regressor(bundle) else None
    except Exception:
        kind = getattr(bundle, "_estimator_type", None)
        info["task"] = {"classifier": "classification", "regressor": "regression"}.get(kind)
    return info


def compose(spec: Dict[str, Any], out: str) -> Dict[str, Any]:
    """Composes the run's fitted steps and model file as *spec* says; writes the bundle to *out*."""
    steps = []
    components = []
    for step in spec.get("steps", []):
        path = os.path.join(spec["objects"], step["sha256"])
        obj = _load(_verified(path, step["sha256"]), step.get("format", "joblib"), "the fitted %s (%s)" % (step["name"], step.get("type")))
        steps.append((step["name"], obj))
        components.append({"name": step["name"], "type": step.get("type"), "sha256": step["sha256"]})
    model_spec = spec["model"]
    model_bytes = _verified(model_spec["path"], model_spec["sha256"])
    model = _load(model_bytes, model_spec.get("format", "joblib"), "the model file %s" % model_spec["path"])
    bundle = serving_bundle(steps, model)
    data = model_bytes if not steps else _dump(bundle, spec.get("format", "joblib"))
    with open(out, "wb") as fh:
        fh.write(data)
    info = describe(bundle)
    info.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), components=components,
                example=_example(spec["data"], spec.get("columns") or []) if spec.get("data") else None)
    return info


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[0] != "compose":
        print("usage: python -m common.bundle compose SPEC.json OUT", file=sys.stderr)
        return 2
    with open(args[1], "r", encoding="utf-8") as fh:
        spec = json.load(fh)
    try:
        info = compose(spec, args[2])
    except ComposeError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(json.dumps(info, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
