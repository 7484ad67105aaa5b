"""Evaluation of the trained model on the notebook's held-out set, after all steps ran.

pipeline/config.json "evaluation" names where the fitted model and the held-out X and y are in
the pipeline's namespace once its step ran, e.g.
``{"step": "train", "model": "model", "X": "X_test", "y": "y_test", "chain": ["scaler"],
"frame": false}`` (null when the notebook had no held-out split: then evaluation is skipped and
the log says why). What is evaluated is what is served: the fitted steps named in "chain" (those
the notebook applies to the held-out matrix) composed with the model (common/bundle.py), the
model's attribute "serving.attribute" when the notebook saves one (``search.best_estimator_``).
With "frame": true, X names the held-out part of the *table* (``train, test =
train_test_split(df)``): its features come from common/features.py and y is its target column.

- classification: accuracy, f1 (binary: the positive class is the larger label; multiclass:
  macro average) and, for binary models with predict_proba, roc_auc;
- regression: rmse, mae, r2.

The task comes from the model (scikit-learn's is_classifier / is_regressor), else from
service/config.json "task". Metrics go to var/reports/metrics.json and, in runs tracked by
nb2prod, to the run as ``holdout_<metric>`` (so they never overwrite the metrics the notebook's
own code logs). When service/config.json has "run_metrics" (the notebook run's metrics), the
differences are logged: retraining with the same data and parameters should reproduce them.
"""
import datetime as _dt
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import numpy as np

log = logging.getLogger("nb2prod.pipeline")

# above this absolute difference from the notebook run's value, a metric is logged as a warning
NOTABLE_DIFFERENCE = 0.01


def decide_task(model: Any, service_config: Optional[Mapping[str, Any]]) -> Optional[str]:
    """"classification" or "regression": from the model when scikit-learn can tell, else the config."""
    try:
        from sklearn.base import is_classifier, is_regressor
        if is_classifier(model):
            return "classification"
        if is_regressor(model):
            return "regression"
    except ImportError:
        pass
    except (AttributeError, TypeError):
        # scikit-learn >= 1.6 reads estimator tags (__sklearn_tags__) and raises for a model that
        # does not derive from BaseEstimator, where older releases read _estimator_type: do that
        kind = getattr(model, "_estimator_type", None)
        if kind in ("classifier", "regressor"):
            return "classification" if kind == "classifier" else "regression"
    task = (service_config or {}).get("task")
    return task if task in ("classification", "regression") else None


def _as_float(value: Any) -> Optional[float]:
    value = float(value)
    return value if math.isfinite(value) else None


def classification_metrics(model: Any, X: Any, y: Any) -> Dict[str, Optional[float]]:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    y_true = np.asarray(y)
    predicted = np.asarray(model.predict(X))
    labels = sorted(set(np.unique(y_true).tolist()) | set(np.unique(predicted).tolist()))
    metrics = {"accuracy": _as_float(accuracy_score(y_true, predicted))}
    if len(labels) <= 2:
        positive = labels[-1]
        metrics["f1"] = _as_float(f1_score(y_true, predicted, pos_label=positive, average="binary",
                                           zero_division=0))
        classes = list(getattr(model, "classes_", []))
        if hasattr(model, "predict_proba") and positive in classes and len(classes) == 2:
            if len(np.unique(y_true)) == 2:
                scores = np.asarray(model.predict_proba(X))[:, classes.index(positive)]
                metrics["roc_auc"] = _as_float(roc_auc_score(y_true == positive, scores))
            else:
                log.info("roc_auc not computed: the held-out set has only one class")
    else:
        metrics["f1"] = _as_float(f1_score(y_true, predicted, average="macro", zero_division=0))
    return metrics


def regression_metrics(model: Any, X: Any, y: Any) -> Dict[str, Optional[float]]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true = np.asarray(y, dtype=float)
    predicted = np.asarray(model.predict(X), dtype=float).reshape(len(y_true))
    return {
        "rmse": _as_float(math.sqrt(mean_squared_error(y_true, predicted))),
        "mae": _as_float(mean_absolute_error(y_true, predicted)),
        "r2": _as_float(r2_score(y_true, predicted)) if len(y_true) > 1 else None,
    }


def compare_with_run(metrics: Mapping[str, Optional[float]],
                     run_metrics: Optional[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Logs and returns the differences from the notebook run's metrics of the same names."""
    if not run_metrics:
        return {}
    differences = {}
    for name, ours in metrics.items():
        theirs = run_metrics.get(name)
        if ours is None or not isinstance(theirs, (int, float)) or isinstance(theirs, bool):
            continue
        difference = ours - float(theirs)
        differences[name] = {"pipeline": ours, "notebook_run": float(theirs),
                             "difference": round(difference, 12)}
        level = logging.WARNING if abs(difference) > NOTABLE_DIFFERENCE else logging.INFO
        log.log(level, "%s: pipeline %.6g vs the notebook run %.6g (difference %+.3g)%s", name,
                ours, float(theirs), difference,
                "; check that the data and parameters are the run's" if level == logging.WARNING else "")
    others = sorted(set(run_metrics) - set(differences))
    if others:
        log.info("notebook run metrics the pipeline does not compute: %s", ", ".join(others))
    return differences


def _log_to_tracker(metrics: Mapping[str, Optional[float]]) -> None:
    """In runs tracked by nb2prod, records the metrics on the run (prefixed holdout_)."""
    if not os.environ.get("NB2PROD_EVENTS"):
        return
    try:
        import nb2prod
    except ImportError:
        return
    nb2prod.log_metrics({"holdout_" + k: v for k, v in metrics.items() if v is not None})


def evaluate(config: Mapping[str, Any], namespace: Mapping[str, Any],
             service_config: Optional[Mapping[str, Any]], reports_dir: Path) -> Dict[str, Any]:
    """Evaluates as config["evaluation"] says; returns {"metrics", "task", "skipped"}.

    Writes reports_dir/metrics.json when metrics were computed.
    """
    spec = config.get("evaluation")
    if not spec:
        reason = ('pipeline/config.json "evaluation" is null: the notebook has no held-out split '
                  "to evaluate on")
        log.info("evaluation skipped: %s", reason)
        return {"metrics": None, "task": None, "skipped": reason}
    serving = config.get("serving") or {}
    names = ("model", "X") if spec.get("frame") else ("model", "X", "y")
    missing = [spec[k] for k in names if spec.get(k) not in namespace]
    missing += [n for n in spec.get("chain") or [] if n not in namespace]
    if missing:
        reason = ("%s not in the namespace after the steps (pipeline/config.json \"evaluation\" "
                  "expects them from step %r)" % (", ".join(repr(m) for m in missing), spec.get("step")))
        log.warning("evaluation skipped: %s", reason)
        return {"metrics": None, "task": None, "skipped": reason}
    from common.bundle import serving_bundle

    model = namespace[spec["model"]]
    if serving.get("attribute"):
        model = getattr(model, serving["attribute"])
    model = serving_bundle([(n, namespace[n]) for n in spec.get("chain") or []], model)
    if spec.get("frame"):
        from common.features import build_features

        table = namespace[spec["X"]]
        X, y = build_features(table.copy()), table[serving.get("target")]
    else:
        X, y = namespace[spec["X"]], namespace[spec["y"]]
    task = decide_task(model, service_config)
    if task is None:
        reason = ("cannot tell whether %s is a classifier or a regressor: set \"task\" in "
                  "service/config.json" % type(model).__name__)
        log.warning("evaluation skipped: %s", reason)
        return {"metrics": None, "task": None, "skipped": reason}

    metrics = classification_metrics(model, X, y) if task == "classification" else regression_metrics(model, X, y)
    log.info("evaluation (%s, %d held-out rows): %s", task, len(y),
             ", ".join("%s=%s" % (k, "n/a" if v is None else "%.4f" % v) for k, v in metrics.items()))
    run_metrics = (service_config or {}).get("run_metrics")
    differences = compare_with_run(metrics, run_metrics if isinstance(run_metrics, dict) else None)
    _log_to_tracker(metrics)

    reports_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "schema": "nb2prod.pipeline-metrics/1",
        "evaluated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "task": task,
        "model": type(model).__name__,
        "rows": int(len(y)),
        "metrics": metrics,
        "notebook_run_differences": differences,
    }
    with open(reports_dir / "metrics.json", "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
        fh.write("\n")
    return {"metrics": metrics, "task": task, "skipped": None}
