# -*- coding: utf-8 -*-
"""nb2prod capture: keeping what a run fitted.

At the end of a successful tracked run (a notebook: in the kernel after its last cell, called
by the runner's silent teardown; a script: at exit of its root process, unless it raised),
every global holding a *fitted* scikit-learn-compatible object (an estimator, a transformer, a
Pipeline, a ColumnTransformer, a vectorizer, a search CV) is serialised with joblib (pickle when
joblib is missing) into the store's content-addressed ``objects/<sha256>``, and reported:

{"type":"fitted","name":N|null,"class":QUALNAME,"sha256":HEX,"bytes":INT,"format":"joblib"|"pickle","location":LOC|null}
    One per name holding the object (two names of one object: two events, one file). name is
    null, and location the "cell I, line L" of its fit, for a transformer fitted at the top
    level of user code but held by no global (``StandardScaler().fit_transform(X)``): the last
    one fitted at each location is kept alive for this (see _patches._on_fit).
{"type":"fitted_skipped","name":N|null,"class":QUALNAME,"reason":STR,"location":LOC|null}
    A fitted object that was not kept: larger than the limit per object, over the limit per
    run, or its serialisation failed (the reason says which).

Bounds: $NB2PROD_FITTED_LIMITS = "MAX_OBJECT_BYTES,MAX_RUN_BYTES" (set by the tracker from the
project's ``[track]`` configuration); $NB2PROD_OBJECTS is the store's objects folder. Without
NB2PROD_OBJECTS nothing is kept. The serialisation streams into a temporary file while hashing
and stops as soon as it passes the limit, so an oversized model costs neither memory nor disk.

It never changes what the run computed (it runs after the last cell, only reading objects) and
never fails the run: every error becomes a ``fitted_skipped`` or ``capture_error`` event.
"""
import hashlib
import os
import sys

from . import _capture as _c

DEFAULT_MAX_OBJECT_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_RUN_BYTES = 250 * 1024 * 1024

_IPYTHON_NAMES = frozenset(["In", "Out", "exit", "quit", "get_ipython"])


class _TooLarge(Exception):
    pass


class _HashingWriter(object):
    """A write-only file object: hashes and writes to *fh*, raises _TooLarge past *limit*."""

    def __init__(self, fh, limit):
        self.fh = fh
        self.limit = limit
        self.size = 0
        self.sha = hashlib.sha256()

    def write(self, data):
        n = len(data)
        if self.size + n > self.limit:
            raise _TooLarge()
        self.sha.update(data)
        self.fh.write(data)
        self.size += n
        return n

    def tell(self):
        return self.size

    def flush(self):
        pass


def limits():
    raw = os.environ.get("NB2PROD_FITTED_LIMITS", "")
    per_object, per_run = DEFAULT_MAX_OBJECT_BYTES, DEFAULT_MAX_RUN_BYTES
    parts = raw.split(",")
    if len(parts) == 2:
        try:
            per_object, per_run = int(parts[0]), int(parts[1])
        except ValueError:
            pass
    return per_object, per_run


def is_fitted(obj):
    """Whether *obj* is a scikit-learn-compatible estimator that has been fitted."""
    if isinstance(obj, type) or not callable(getattr(obj, "fit", None)):
        return False
    try:
        if not any(callable(getattr(obj, m, None)) for m in ("predict", "transform", "predict_proba", "fit_transform")):
            return False
    except Exception:
        return False
    validation = sys.modules.get("sklearn.utils.validation")
    check = getattr(validation, "check_is_fitted", None) if validation is not None else None
    if check is not None:
        try:
            check(obj)
            return True
        except TypeError:
            pass  # not an estimator in scikit-learn's sense: look at its attributes
        except Exception:
            return False
    try:
        names = list(vars(obj))
    except TypeError:
        return False
    return any(n.endswith("_") and not n.startswith("__") for n in names)


def _candidates(namespace):
    """(name, object) for the globals holding fitted estimators, in namespace order."""
    out = []
    for name, value in list(namespace.items()):
        if not isinstance(name, str) or name.startswith("_") or name in _IPYTHON_NAMES:
            continue
        if type(value).__module__ in ("builtins", "types") or isinstance(value, type(sys)):
            continue
        try:
            if is_fitted(value):
                out.append((name, value))
        except Exception:
            continue
    return out


def _serialise(obj, objects_dir, limit):
    """Writes *obj* into objects_dir/<sha256>; returns (sha256, bytes, format)."""
    try:
        import joblib
        fmt = "joblib"
    except ImportError:
        joblib = None
        fmt = "pickle"
    tmp = os.path.join(objects_dir, ".fitted-%d-%d.tmp" % (os.getpid(), id(obj)))
    try:
        with open(tmp, "wb") as fh:
            writer = _HashingWriter(fh, limit)
            if joblib is not None:
                joblib.dump(obj, writer)
            else:
                import pickle
                pickle.dump(obj, writer, protocol=4)
        sha = writer.sha.hexdigest()
        final = os.path.join(objects_dir, sha)
        if os.path.exists(final):
            os.unlink(tmp)
        else:
            os.replace(tmp, final)
        return sha, writer.size, fmt
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _mb(n):
    return "%g MB" % round(n / 1048576.0, 1) if n >= 1048576 else "%d bytes" % n


def keep(namespace, anonymous=None):
    """Serialises the fitted objects of *namespace* (and the anonymous ones by location)."""
    objects_dir = os.environ.get("NB2PROD_OBJECTS")
    if not objects_dir or not _c._enabled:
        return
    per_object, per_run = limits()
    if per_object <= 0 or per_run <= 0:
        return
    os.makedirs(objects_dir, exist_ok=True)
    entries = [(name, obj, None) for name, obj in _candidates(namespace)]
    held = set(id(obj) for _n, obj, _l in entries)
    for location, obj in sorted((anonymous or {}).items()):
        if id(obj) not in held:
            try:
                if is_fitted(obj):
                    entries.append((None, obj, location))
                    held.add(id(obj))
            except Exception:
                continue
    done = {}  # id(obj) -> (sha, size, fmt) or reason
    total = 0
    for name, obj, location in entries:
        qual = _qualname(obj)
        key = id(obj)
        if key not in done:
            budget = min(per_object, per_run - total)
            try:
                if budget <= 0:
                    raise _TooLarge()
                done[key] = _serialise(obj, objects_dir, budget)
                total += done[key][1]
            except _TooLarge:
                over_object = budget == per_object
                done[key] = ("larger than the limit of %s per object ([track] fitted_object_limit_mb)" % _mb(per_object)
                             if over_object else
                             "over the limit of %s per run ([track] fitted_run_limit_mb)" % _mb(per_run))
            except Exception as error:
                done[key] = "could not be serialised (%s: %s)" % (type(error).__name__, str(error)[:300])
        result = done[key]
        if isinstance(result, str):
            _c._emit({"type": "fitted_skipped", "name": name, "class": qual, "reason": result,
                      "location": location})
        else:
            sha, size, fmt = result
            _c._emit({"type": "fitted", "name": name, "class": qual, "sha256": sha, "bytes": size,
                      "format": fmt, "location": location})


def _qualname(obj):
    patches = sys.modules.get("nb2prod._patches")
    if patches is not None:
        try:
            return patches._public_name(type(obj))
        except Exception:
            pass
    t = type(obj)
    return "%s.%s" % (getattr(t, "__module__", "?"), getattr(t, "__qualname__", t.__name__))
