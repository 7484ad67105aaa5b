# -*- coding: utf-8 -*-
"""nb2prod: log metrics, params and artifacts of a tracked run.

In a run tracked by nb2prod (the environment variable ``NB2PROD_EVENTS`` is
set) every call is recorded.  Outside a tracked run the functions validate
their arguments and do nothing else, so the same notebook runs untracked.

    import nb2prod
    nb2prod.log_param("n_estimators", 200)
    nb2prod.log_metric("accuracy", 0.93)
    nb2prod.log_metric("loss", 0.41, step=3)
    nb2prod.log_artifact("model.joblib")          # kind "model"
    nb2prod.log_artifact("report.html", kind="report")

Calls made through the ``openai`` and ``anthropic`` clients are recorded with no code change
(nb2prod/_llm.py).  ``nb2prod.prompt`` names a prompt template, so the calls that use it share
one prompt version whatever the values put in it:

    qa = nb2prod.prompt("qa", "Answer in one word: {question}")
    client.chat.completions.create(model=..., messages=[{"role": "user",
                                   "content": qa.format(question=q)}])
"""
import numbers
import os

from . import _capture

__all__ = ["log_metric", "log_metrics", "log_param", "log_params", "log_artifact", "prompt",
           "ARTIFACT_KINDS"]
__version__ = "0.1.0"

ARTIFACT_KINDS = ("model", "report", "other")


def _check_name(name, what="name"):
    if not isinstance(name, str):
        raise TypeError("nb2prod: %s must be a str, not %s" % (what, type(name).__name__))
    if not name.strip():
        raise ValueError("nb2prod: %s must be a non-empty string" % what)
    return name


def _check_value(name, value):
    """A real number (NaN and infinities allowed), as a float."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError("nb2prod: metric %r must be a real number, not %s"
                        % (name, type(value).__name__))
    if isinstance(value, numbers.Real):
        return float(value)
    # numpy 0-d arrays, 1-element tensors and the like
    item = getattr(value, "item", None)
    if item is not None:
        try:
            v = item()
        except Exception:
            v = None
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            return float(v)
    raise TypeError("nb2prod: metric %r must be a real number, not %s"
                    % (name, type(value).__name__))


def _check_step(step):
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError("nb2prod: step must be an int or None, not %s" % type(step).__name__)
    return int(step)


def log_metric(name, value, step=None):
    """Record metric *name* = *value* (a real number), optionally at *step*."""
    _check_name(name, "metric name")
    v = _check_value(name, value)
    s = _check_step(step)
    if _capture.enabled():
        _capture.emit({"type": "metric", "name": name, "value": _capture._float(v), "step": s})


def log_metrics(metrics, step=None):
    """Record several metrics from a mapping {name: value}."""
    if not hasattr(metrics, "items"):
        raise TypeError("nb2prod: log_metrics expects a dict, not %s" % type(metrics).__name__)
    checked = []
    for name, value in metrics.items():
        _check_name(name, "metric name")
        checked.append((name, _check_value(name, value)))
    s = _check_step(step)
    if _capture.enabled():
        for name, v in checked:
            _capture.emit({"type": "metric", "name": name, "value": _capture._float(v), "step": s})


def log_param(name, value):
    """Record parameter *name* = *value* (any value; non-JSON values are repr()'d)."""
    _check_name(name, "param name")
    if _capture.enabled():
        _capture.emit({"type": "param", "name": name, "value": _capture._jsonable(value),
                       "source": "logged"})


def log_params(params):
    """Record several parameters from a mapping {name: value}."""
    if not hasattr(params, "items"):
        raise TypeError("nb2prod: log_params expects a dict, not %s" % type(params).__name__)
    items = list(params.items())
    for name, _v in items:
        _check_name(name, "param name")
    if _capture.enabled():
        for name, value in items:
            _capture.emit({"type": "param", "name": name, "value": _capture._jsonable(value),
                           "source": "logged"})


def log_artifact(path, kind=None):
    """Record the file at *path* as an artifact of the run.

    *kind* is "model", "report" or "other"; by default "model" for model files
    (.joblib .pkl .pickle .onnx .pt .pth .h5 .keras .cbm .ubj), else "other".
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError("nb2prod: artifact path must be a str or os.PathLike, not %s"
                        % type(path).__name__)
    p = os.fspath(path)
    if not p:
        raise ValueError("nb2prod: artifact path must be non-empty")
    if kind is not None and kind not in ARTIFACT_KINDS:
        raise ValueError("nb2prod: artifact kind must be one of %s, not %r"
                         % (", ".join(ARTIFACT_KINDS), kind))
    ap = os.path.abspath(p)
    if not os.path.exists(ap):
        raise FileNotFoundError("nb2prod: artifact not found: %s" % ap)
    if kind is None:
        kind = _capture._artifact_kind(ap)
    if _capture.enabled():
        _capture.emit({"type": "artifact", "path": ap, "kind": kind})


def prompt(name, template):
    """Name the prompt template *template* (``str.format`` fields: ``{question}``).

    Returns the template itself (a str) whose ``format`` renders it as usual; a call whose
    messages hold a rendering of it -- through this ``format``, or text that matches the
    template -- gets the prompt version of the template, with the values put in it factored
    out, and the template's name.  The template text is kept in the run's store."""
    _check_name(name, "prompt name")
    if not isinstance(template, str):
        raise TypeError("nb2prod: prompt template must be a str, not %s" % type(template).__name__)
    from . import _llm
    _llm.register_template(name, str(template))
    return _llm.PromptTemplate(name, str(template))
