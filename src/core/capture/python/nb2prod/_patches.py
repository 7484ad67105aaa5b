# -*- coding: utf-8 -*-
"""nb2prod capture: the patches of third-party libraries.

Imported by nb2prod._capture the first time one of these libraries is
imported (numpy.random, scikit-learn, pandas, mlflow, torch, tensorflow,
keras), so a run that uses none of them never loads this module.  The event
contract is documented in nb2prod._capture.
"""
import json
import os
import sys

from . import _capture as _c

_c._OWN_FILES.add((lambda: None).__code__.co_filename)


# ---- numpy ----------------------------------------------------------------
_NP_LEGACY = ("rand", "randn", "random", "random_sample", "ranf", "sample", "randint",
              "random_integers", "choice", "shuffle", "permutation", "normal", "uniform",
              "binomial", "poisson", "exponential", "beta", "gamma", "standard_normal",
              "integers", "bytes", "multinomial", "multivariate_normal", "lognormal", "laplace",
              "logistic", "geometric", "hypergeometric", "chisquare", "dirichlet", "f", "gumbel",
              "negative_binomial", "noncentral_chisquare", "noncentral_f", "pareto", "power",
              "rayleigh", "standard_cauchy", "standard_exponential", "standard_gamma",
              "standard_t", "triangular", "vonmises", "wald", "weibull", "zipf", "logseries")


def _patch_numpy_random(mod):
    if getattr(mod, "_nb2prod_patched", False):
        return
    mod._nb2prod_patched = True
    orig_seed = getattr(mod, "seed", None)
    if orig_seed is not None:
        def seed(*args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            if _c._enabled:
                _c._guard("numpy.random.seed", _on_np_seed, args, kwargs)
            return orig_seed(*args, **kwargs)
        mod.seed = _c._wraps(orig_seed, seed)
    orig_set_state = getattr(mod, "set_state", None)
    if orig_set_state is not None:
        def set_state(*args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            _c._np_seeded = True
            return orig_set_state(*args, **kwargs)
        mod.set_state = _c._wraps(orig_set_state, set_state)
    orig_rng = getattr(mod, "default_rng", None)
    if orig_rng is not None:
        def default_rng(*args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            if _c._enabled:
                _c._guard("numpy.random.default_rng", _on_default_rng, mod, args, kwargs)
            return orig_rng(*args, **kwargs)
        mod.default_rng = _c._wraps(orig_rng, default_rng)
    rs = getattr(mod, "RandomState", None)
    if isinstance(rs, type):
        try:
            mod.RandomState = _make_random_state(rs)
        except Exception as e:
            _c._capture_error("numpy.random.RandomState", e)
    for name in _NP_LEGACY:
        orig = getattr(mod, name, None)
        if orig is None or isinstance(orig, type) or _c._is_wrapped(orig) or not callable(orig):
            continue
        setattr(mod, name, _c._wraps(orig, _make_np_draw(orig, "numpy.random." + name)))


def _make_np_draw(orig, call):
    def draw(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._np_seeded and _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard(call, _c._unseeded_draw, "numpy", call)
        return orig(*args, **kwargs)
    return draw


def _on_np_seed(args, kwargs):
    s = args[0] if args else kwargs.get("seed", None)
    if s is None:
        _c._np_seeded = False
        return
    _c._np_seeded = True
    _c._seed_event("numpy", s)


def _seed_value(mod, s):
    """JSON-able seed value for numpy seeds (SeedSequence -> its entropy)."""
    ss = getattr(mod, "SeedSequence", None)
    if ss is not None and isinstance(s, ss):
        return getattr(s, "entropy", None)
    return s


def _on_default_rng(mod, args, kwargs):
    if not _c._called_from_user():
        return
    s = args[0] if args else kwargs.get("seed", None)
    if s is None:
        _c._unseeded_event("numpy", "numpy.random.default_rng")
        return
    for cls_name in ("Generator", "BitGenerator"):
        cls = getattr(mod, cls_name, None)
        if isinstance(cls, type) and isinstance(s, cls):
            return
    _c._seed_event("numpy.random.Generator", _seed_value(mod, s))


def _make_random_state(orig):
    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, orig)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, orig)

    def __init__(self, seed=None):
        if _c._enabled:
            _c._guard("numpy.random.RandomState", _on_random_state, seed)
        orig.__init__(self, seed)

    ns = {"__init__": __init__, "__module__": "numpy.random", "__doc__": orig.__doc__,
          "__qualname__": "RandomState", "_nb2prod": True}
    return _Meta("RandomState", (orig,), ns)


def _on_random_state(seed):
    if not _c._called_from_user():
        return
    if seed is None:
        _c._unseeded_event("numpy", "numpy.random.RandomState")
        return
    mod = sys.modules.get("numpy.random")
    _c._seed_event("numpy.random.RandomState", _seed_value(mod, seed))


# ---- scikit-learn -----------------------------------------------------------
_FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_public_names = {}


def _public_name(cls):
    r = _public_names.get(cls)
    if r is not None:
        return r
    mod = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__name__", "?")
    r = "%s.%s" % (mod, getattr(cls, "__qualname__", name))
    parts = mod.split(".")
    for i in range(1, len(parts) + 1):
        if any(p.startswith("_") for p in parts[:i]):
            break
        m = sys.modules.get(".".join(parts[:i]))
        if m is not None and getattr(m, name, None) is cls:
            r = "%s.%s" % (".".join(parts[:i]), name)
            break
    _public_names[cls] = r
    return r


def _active(attr):
    a = getattr(_c._tls, attr, None)
    if a is None:
        a = []
        setattr(_c._tls, attr, a)
    return a


def _patch_sklearn_module(mod):
    base = sys.modules.get("sklearn.base")
    be = getattr(base, "BaseEstimator", None) if base is not None else None
    name = getattr(mod, "__name__", "")
    for attr, obj in list(vars(mod).items()):
        if not isinstance(obj, type) or getattr(obj, "__module__", None) != name:
            continue
        if be is not None:
            try:
                is_est = issubclass(obj, be)
            except Exception:
                is_est = False
            if is_est:
                for meth in _FIT_METHODS:
                    f = obj.__dict__.get(meth)
                    if f is not None and type(f).__name__ == "function" and not _c._is_wrapped(f):
                        setattr(obj, meth, _c._wraps(f, _make_fit(f, meth)))
        if name == "sklearn.model_selection._split":
            f = obj.__dict__.get("split")
            if f is not None and type(f).__name__ == "function" and not _c._is_wrapped(f):
                setattr(obj, "split", _c._wraps(f, _make_split(f)))
    if name == "sklearn.model_selection._split":
        tts = getattr(mod, "train_test_split", None)
        if tts is not None and not _c._is_wrapped(tts):
            mod.train_test_split = _c._wraps(tts, _make_tts(tts))


def _param_objects(params):
    """Objects referenced by get_params(deep=False), one level into containers."""
    out = []
    for v in params.values():
        out.append(v)
        if isinstance(v, (list, tuple)):
            for x in v:
                out.append(x)
                if isinstance(x, (list, tuple)):
                    out.extend(x)
        elif isinstance(v, dict):
            out.extend(v.values())
    return out


def _make_fit(orig, meth):
    def fit(self, *args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._enabled or getattr(_c._tls, "busy", False):
            return orig(self, *args, **kwargs)
        stack = _active("fits")
        for entry in stack:
            if entry[0] is self:  # super().fit chains, fit_transform -> fit
                return orig(self, *args, **kwargs)
        seeded = _c._np_seeded
        reported = _c._guard("sklearn.fit", _on_fit, self, meth, stack)
        stack.append((self, bool(reported)))
        try:
            result = orig(self, *args, **kwargs)
        finally:
            try:
                stack.pop()
            except IndexError:
                pass
        # After the fit: PCA's solver is only known once the data's shape was seen.
        if not seeded:
            _c._guard("sklearn.fit", _check_unseeded_fit, self, meth)
        return result
    return fit


# When a scikit-learn estimator with a random_state draws from it, by class name: the same
# table as the linter's SKLEARN_RANDOM_STATE (src/core/lint/rules/randomnessCatalog.ts, which
# explains each condition); test/unit/lint/catalogue.test.ts keeps the two equal. Splitters and
# functions are checked at split and call time instead.
_RANDOM_WHEN = {
    "RandomForestClassifier": "always",
    "RandomForestRegressor": "always",
    "ExtraTreesClassifier": "always",
    "ExtraTreesRegressor": "always",
    "RandomTreesEmbedding": "always",
    "GradientBoostingClassifier": "always",
    "GradientBoostingRegressor": "always",
    "HistGradientBoostingClassifier": "always",
    "HistGradientBoostingRegressor": "always",
    "DecisionTreeClassifier": "always",
    "DecisionTreeRegressor": "always",
    "ExtraTreeClassifier": "always",
    "ExtraTreeRegressor": "always",
    "BaggingClassifier": "always",
    "BaggingRegressor": "always",
    "AdaBoostClassifier": "always",
    "AdaBoostRegressor": "always",
    "IsolationForest": "always",
    "RANSACRegressor": "always",
    "GaussianRandomProjection": "always",
    "SparseRandomProjection": "always",
    "RBFSampler": "always",
    "Nystroem": "always",
    "SkewedChi2Sampler": "always",
    "SGDClassifier": "always",
    "SGDRegressor": "always",
    "SGDOneClassSVM": "always",
    "Perceptron": "always",
    "PassiveAggressiveClassifier": "always",
    "PassiveAggressiveRegressor": "always",
    "MLPClassifier": "always",
    "MLPRegressor": "always",
    "BernoulliRBM": "always",
    "KMeans": "init-array",
    "MiniBatchKMeans": "always",
    "BisectingKMeans": "always",
    "SpectralClustering": "always",
    "GaussianMixture": "always",
    "BayesianGaussianMixture": "always",
    "TSNE": "always",
    "MDS": "always",
    "TruncatedSVD": "always",
    "LatentDirichletAllocation": "always",
    "FastICA": "always",
    "RandomizedSearchCV": "always",
    "HalvingRandomSearchCV": "always",
    "LogisticRegression": "solver",
    "LogisticRegressionCV": "solver",
    "Ridge": "ridge-solver",
    "RidgeClassifier": "ridge-solver",
    "Lasso": "selection",
    "ElasticNet": "selection",
    "LassoCV": "selection",
    "ElasticNetCV": "selection",
    "MultiTaskLasso": "selection",
    "MultiTaskElasticNet": "selection",
    "MultiTaskLassoCV": "selection",
    "MultiTaskElasticNetCV": "selection",
    "LinearSVC": "dual",
    "LinearSVR": "dual",
    "SVC": "probability",
    "NuSVC": "probability",
    "PCA": "svd-solver",
}


def _random_condition(est):
    """The _RANDOM_WHEN condition of the scikit-learn class an estimator is (or derives from)."""
    for cls in type(est).__mro__:
        if not getattr(cls, "__module__", "").startswith("sklearn."):
            continue
        cond = _RANDOM_WHEN.get(cls.__name__)
        if cond is not None:
            return cond
    return None


def _draws_randomness(est, params):
    """Whether this fitted estimator drew from its random_state, as the linter's table says."""
    cond = _random_condition(est)
    if cond is None:
        return False
    if cond == "always":
        return True
    if cond == "solver":
        return params.get("solver") in ("sag", "saga", "liblinear")
    if cond == "ridge-solver":
        return params.get("solver") in ("sag", "saga")
    if cond == "probability":
        return params.get("probability") is True
    if cond == "dual":
        return params.get("dual") is True
    if cond == "selection":
        return params.get("selection") == "random"
    if cond == "init-array":
        init = params.get("init")
        # an array of starting centres leaves nothing to draw
        return init is None or isinstance(init, str) or callable(init)
    if cond == "svd-solver":
        solver = getattr(est, "_fit_svd_solver", None) or params.get("svd_solver")
        return solver in ("randomized", "arpack")
    return True


def _check_unseeded_fit(est, meth):
    try:
        params = est.get_params(deep=False)
    except Exception:
        return
    if "random_state" not in params or params["random_state"] is not None:
        return
    if _draws_randomness(est, params):
        _c._unseeded_event("sklearn", "%s.%s(random_state=None)" % (_public_name(type(est)), meth))


# Transformers fitted at the top level of user code, the last one per location: one built and
# fitted in one expression (`StandardScaler().fit_transform(X)`) is held by no global, yet it is
# what turned the data the model learned from; nb2prod._fitted keeps it with the run.
_top_fits = {}


def _fitted_by_user(est):
    """Whether user code called this fit, directly or through the estimator's own methods
    (TransformerMixin.fit_transform calls self.fit)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename in _c._OWN_FILES:
        f = f.f_back
    while f is not None and _c._file_kind(f.f_code.co_filename) == _c._K_LIB:
        if f.f_locals.get("self") is not est:
            return False
        f = f.f_back
    return f is not None


def _remember_transformer(est, loc):
    try:
        transforms = callable(getattr(est, "transform", None))
    except Exception:
        transforms = False
    if transforms:
        _top_fits[loc] = est


def _on_fit(est, meth, stack):
    """Report a fit; returns True when the estimator event was reported.

    Top-level fits are reported.  A nested fit is reported only when the
    estimator is one of the parameters of the (reported) estimator fitting
    it, as Pipeline steps are; clones and sub-estimators made by the library
    (trees of a forest, GridSearchCV candidates) are not.
    """
    loc = _c._location()
    if loc is None:
        return False
    try:
        params = est.get_params(deep=False)
    except Exception:
        params = {}
    nested = bool(stack)
    if not nested and _fitted_by_user(est):
        _remember_transformer(est, loc)
    report = True
    if nested:
        outer, outer_reported = stack[-1]
        report = False
        if outer_reported:
            try:
                oparams = outer.get_params(deep=False)
                report = any(x is est for x in _param_objects(oparams))
            except Exception:
                report = False
    qual = _public_name(type(est))
    rs = params.get("random_state", _c._MISSING)
    if not report:
        return False
    jp = _c._jsonable(params)
    try:
        key = ("estimator", qual, json.dumps(jp, sort_keys=True), loc, nested)
    except Exception:
        key = ("estimator", qual, repr(jp), loc, nested)
    if _c._once(key):
        _c._emit({"type": "estimator", "class": qual, "params": jp, "location": loc,
                  "nested": nested})
    if rs is not _c._MISSING and _c._int_like(rs):
        _c._seed_event("sklearn", int(rs))
    return True


def _make_split(orig):
    def split(self, *args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._enabled or getattr(_c._tls, "busy", False) or getattr(_c._tls, "tts", 0):
            return orig(self, *args, **kwargs)
        active = _active("splits")
        oid = id(self)
        if oid in active:
            return orig(self, *args, **kwargs)
        _c._guard("sklearn.split", _on_split, self)
        active.append(oid)
        try:
            return orig(self, *args, **kwargs)
        finally:
            try:
                active.pop()
            except IndexError:
                pass
    return split


def _on_split(cv):
    rs = getattr(cv, "random_state", _c._MISSING)
    if rs is _c._MISSING:
        return
    if not getattr(cv, "shuffle", True):
        return
    if _c._int_like(rs):
        _c._seed_event("sklearn", int(rs))
    elif rs is None and not _c._np_seeded:
        _c._unseeded_event("sklearn", "%s.split(random_state=None)" % _public_name(type(cv)))


def _make_tts(orig):
    def train_test_split(*arrays, **options):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard("sklearn.train_test_split", _on_tts, options)
        _c._tls.tts = getattr(_c._tls, "tts", 0) + 1  # its ShuffleSplit is not the user's
        try:
            return orig(*arrays, **options)
        finally:
            _c._tls.tts -= 1
    return train_test_split


def _on_tts(options):
    if not _c._called_from_user():
        return  # e.g. early stopping inside an estimator's fit
    if not options.get("shuffle", True):
        return
    rs = options.get("random_state", None)
    if _c._int_like(rs):
        _c._seed_event("sklearn", int(rs))
    elif rs is None and not _c._np_seeded:
        _c._unseeded_event("sklearn", "sklearn.model_selection.train_test_split(random_state=None)")


# ---- pandas -------------------------------------------------------------------
_PD_READERS = ("read_csv", "read_table", "read_json", "read_parquet", "read_excel",
               "read_feather", "read_pickle")
_PD_PATH_KW = ("filepath_or_buffer", "path", "path_or_buf", "io", "path_or_buffer")


def _patch_pandas(mod):
    if getattr(mod, "_nb2prod_patched", False):
        return
    mod._nb2prod_patched = True
    for name in _PD_READERS:
        orig = getattr(mod, name, None)
        if orig is None or _c._is_wrapped(orig):
            continue
        setattr(mod, name, _c._wraps(orig, _make_reader(orig, "pandas." + name)))
    generic = sys.modules.get("pandas.core.generic")
    nd = getattr(generic, "NDFrame", None) if generic is not None else None
    if nd is not None:
        f = nd.__dict__.get("sample")
        if f is not None and not _c._is_wrapped(f):
            nd.sample = _c._wraps(f, _make_sample(f))


def _make_reader(orig, where):
    def reader(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        result = orig(*args, **kwargs)
        if _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard(where, _on_read, args, kwargs, result)
        return result
    return reader


def _on_read(args, kwargs, result):
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(result, pd.DataFrame):
        return
    src = args[0] if args else _c._MISSING
    if src is _c._MISSING:
        for k in _PD_PATH_KW:
            if k in kwargs:
                src = kwargs[k]
                break
    path = None
    if isinstance(src, str) or hasattr(src, "__fspath__"):
        try:
            p = os.fspath(src)
            if isinstance(p, bytes):
                p = os.fsdecode(p)
            if "://" not in p:
                path = os.path.abspath(os.path.expanduser(p))
        except Exception:
            path = None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = _profile_frame(result)
    _c._emit({"type": "profile", "path": path, "profile": prof})


def _make_sample(orig):
    def sample(self, *args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._np_seeded and _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard("pandas.sample", _on_sample, self, args, kwargs)
        return orig(self, *args, **kwargs)
    return sample


def _on_sample(obj, args, kwargs):
    rs = kwargs.get("random_state", args[4] if len(args) > 4 else None)
    if rs is not None:
        return
    kind = "DataFrame"
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.Series):
        kind = "Series"
    _c._unseeded_event("pandas", "pandas.%s.sample(random_state=None)" % kind)


# profiling ----------------------------------------------------------------------
_SAMPLE_ABOVE = 2000000
_SAMPLE_ROWS = 1000000
_MAX_COLUMNS = 1000
_TOP = 20


def _profile_frame(df):
    import numpy as np  # pandas is loaded, so numpy is too
    n = int(len(df))
    prof = {"rows": n, "columns": []}
    if n > _SAMPLE_ABOVE:
        idx = np.linspace(0, n - 1, _SAMPLE_ROWS).astype(np.int64)
        df = df.iloc[idx]
        prof["sampled"] = True
        prof["sampleRows"] = int(len(df))
    ncols = df.shape[1]
    if ncols > _MAX_COLUMNS:
        prof["truncatedColumns"] = int(ncols)
    cols = prof["columns"]
    for i in range(min(ncols, _MAX_COLUMNS)):
        name = df.columns[i]
        try:
            cols.append(_profile_series(str(name), df.iloc[:, i], np))
        except Exception as e:
            _c._capture_error("profile.column", e)
            cols.append({"name": str(name), "type": "text", "count": 0, "nulls": 0,
                         "error": True})
    return prof


def _factorize(s, pd, np):
    """(uniques as a list, counts per unique) of the non-null values, one hash pass."""
    try:
        codes, uniques = pd.factorize(s)
    except TypeError:  # unhashable values (lists, dicts)
        codes, uniques = pd.factorize(s.astype(str).where(s.notna()))
    codes = np.asarray(codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return uniques, counts


def _top(uniques, counts, np, limit=_TOP):
    """The most frequent values, count descending then first appearance."""
    n = len(counts)
    if n == 0:
        return []
    if n > limit:
        cand = np.argpartition(-counts, limit - 1)[:limit]
    else:
        cand = np.arange(n)
    cand = sorted(cand.tolist(), key=lambda i: (-int(counts[i]), i))
    out = []
    for i in cand[:limit]:
        v = str(uniques[i])
        if len(v) > 200:
            v = v[:197] + "..."
        out.append({"value": v, "count": int(counts[i])})
    return out


def _profile_series(name, s, np):
    import pandas as pd
    from pandas.api import types as pt
    nulls = int(s.isna().sum())
    count = int(len(s) - nulls)
    col = {"name": name, "type": "text", "count": count, "nulls": nulls}
    dt = s.dtype
    if pt.is_bool_dtype(dt):
        col["type"] = "boolean"
        col["top"] = _top(*_factorize(s, pd, np), np=np)
        return col
    if pt.is_datetime64_any_dtype(dt) or type(dt).__name__ == "PeriodDtype":
        col["type"] = "datetime"
        return col
    if pt.is_timedelta64_dtype(dt):
        vals = s.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
        col["type"] = "numeric"
        _numeric_stats(col, vals, np)
        return col
    if pt.is_numeric_dtype(dt) and not pt.is_complex_dtype(dt):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        col["type"] = "numeric"
        if pt.is_integer_dtype(dt):
            col["integer"] = True
        _numeric_stats(col, vals, np)
        return col
    uniques, counts = _factorize(s, pd, np)
    distinct = len(uniques)
    if getattr(dt, "name", "") == "category":
        col["type"] = "categorical"
    elif distinct and all(type(u) is bool or type(u).__name__ == "bool_" for u in list(uniques[:3])) \
            and all(type(u) is bool or type(u).__name__ == "bool_" for u in list(uniques)):
        col["type"] = "boolean"
    elif distinct <= 50 or (count > 0 and float(distinct) / count <= 0.5):
        col["type"] = "categorical"
    else:
        col["type"] = "text"
    col["top"] = _top(uniques, counts, np)
    return col


def _numeric_stats(col, vals, np):
    finite = vals[np.isfinite(vals)]
    nonfinite = int(np.count_nonzero(~np.isnan(vals))) - int(finite.size)
    if nonfinite:
        col["nonFinite"] = nonfinite
    if finite.size == 0:
        return
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 11)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
        counts = np.array([finite.size])
    else:
        # np.histogram semantics ([e_i, e_i+1), the last bin closed) without its sort
        k = edges.size - 1
        idx = np.searchsorted(edges, finite, side="right") - 1
        np.clip(idx, 0, k - 1, out=idx)
        counts = np.bincount(idx, minlength=k)
    col["bins"] = {"edges": [float(x) for x in edges], "counts": [int(c) for c in counts]}
    col["min"] = float(edges[0])
    col["max"] = float(edges[-1])
    mean = float(finite.mean())
    std = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    col["mean"] = mean if mean == mean and abs(mean) != float("inf") else 0.0
    col["std"] = std if std == std and abs(std) != float("inf") else 0.0


# ---- mlflow ------------------------------------------------------------------------
def _mlflow_call(orig, where, handler):
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._enabled or getattr(_c._tls, "mlflow", 0) > 0:
            return orig(*args, **kwargs)
        _c._guard(where, handler, args, kwargs)
        _c._tls.mlflow = getattr(_c._tls, "mlflow", 0) + 1
        try:
            return orig(*args, **kwargs)
        finally:
            _c._tls.mlflow -= 1
    return _c._wraps(orig, wrapper)


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _metric_value(v):
    if isinstance(v, bool):
        return None
    try:
        if hasattr(v, "item") and not isinstance(v, (int, float)):
            v = v.item()
        return _c._float(float(v))
    except Exception:
        return None


def _step_value(s):
    if s is None:
        return None
    try:
        return int(s)
    except Exception:
        return None


def _emit_metric(name, value, step):
    if not isinstance(name, str):
        name = str(name)
    v = _metric_value(value)
    if v is None:
        return
    _c._emit({"type": "metric", "name": name, "value": v, "step": _step_value(step)})


def _emit_param(name, value, source="logged"):
    _c._emit({"type": "param", "name": str(name), "value": _c._jsonable(value),
              "source": source})


def _emit_artifact(path, kind=None):
    p = os.fspath(path)
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    ap = os.path.abspath(p)
    _c._emit({"type": "artifact", "path": ap, "kind": kind or _c._artifact_kind(ap)})


def _h_log_metric(args, kwargs):
    _emit_metric(_arg(args, kwargs, 0, "key"), _arg(args, kwargs, 1, "value"),
                 _arg(args, kwargs, 2, "step"))


def _h_log_metrics(args, kwargs):
    metrics = _arg(args, kwargs, 0, "metrics") or {}
    step = _arg(args, kwargs, 1, "step")
    for k, v in dict(metrics).items():
        _emit_metric(k, v, step)


def _h_log_param(args, kwargs):
    _emit_param(_arg(args, kwargs, 0, "key"), _arg(args, kwargs, 1, "value"))


def _h_log_params(args, kwargs):
    params = _arg(args, kwargs, 0, "params") or {}
    for k, v in dict(params).items():
        _emit_param(k, v)


def _h_log_artifact(args, kwargs):
    p = _arg(args, kwargs, 0, "local_path")
    if p is not None:
        _emit_artifact(p)


def _h_log_artifacts(args, kwargs):
    d = _arg(args, kwargs, 0, "local_dir")
    if d is None:
        return
    d = os.fspath(d)
    n = 0
    for root, _dirs, files in os.walk(d):
        for fn in sorted(files):
            _emit_artifact(os.path.join(root, fn))
            n += 1
            if n >= 1000:
                return


def _patch_mlflow(mod):
    if getattr(mod, "_nb2prod_patched", False):
        return
    mod._nb2prod_patched = True
    for name, handler in (("log_metric", _h_log_metric), ("log_metrics", _h_log_metrics),
                          ("log_param", _h_log_param), ("log_params", _h_log_params),
                          ("log_artifact", _h_log_artifact), ("log_artifacts", _h_log_artifacts)):
        orig = getattr(mod, name, None)
        if orig is None or _c._is_wrapped(orig):
            continue
        setattr(mod, name, _mlflow_call(orig, "mlflow." + name, handler))
    client = sys.modules.get("mlflow.tracking.client")
    if client is not None:
        _patch_mlflow_client(client)


def _c_log_metric(args, kwargs):  # (self, run_id, key, value, timestamp=None, step=None)
    _emit_metric(_arg(args, kwargs, 2, "key"), _arg(args, kwargs, 3, "value"),
                 _arg(args, kwargs, 5, "step"))


def _c_log_param(args, kwargs):  # (self, run_id, key, value)
    _emit_param(_arg(args, kwargs, 2, "key"), _arg(args, kwargs, 3, "value"))


def _c_log_batch(args, kwargs):  # (self, run_id, metrics=(), params=(), tags=())
    for m in _arg(args, kwargs, 2, "metrics") or ():
        _emit_metric(getattr(m, "key", None), getattr(m, "value", None), getattr(m, "step", None))
    for p in _arg(args, kwargs, 3, "params") or ():
        _emit_param(getattr(p, "key", None), getattr(p, "value", None))


def _c_log_artifact(args, kwargs):  # (self, run_id, local_path, artifact_path=None)
    p = _arg(args, kwargs, 2, "local_path")
    if p is not None:
        _emit_artifact(p)


def _patch_mlflow_client(mod):
    cls = getattr(mod, "MlflowClient", None)
    if not isinstance(cls, type) or cls.__dict__.get("_nb2prod_patched"):
        return
    cls._nb2prod_patched = True
    for name, handler in (("log_metric", _c_log_metric), ("log_param", _c_log_param),
                          ("log_batch", _c_log_batch), ("log_artifact", _c_log_artifact)):
        orig = cls.__dict__.get(name)
        if orig is None or _c._is_wrapped(orig):
            continue
        setattr(cls, name, _mlflow_call(orig, "mlflow.MlflowClient." + name, handler))


# ---- torch / tensorflow / keras --------------------------------------------------------
_TORCH_DRAWS = ("rand", "randn", "randint", "randperm")
_torch_originals = {}


def _patch_torch(mod):
    if getattr(mod, "_nb2prod_patched", False):
        return
    mod._nb2prod_patched = True
    for owner_name, attr in (("torch", "manual_seed"), ("torch.random", "manual_seed"),
                             ("torch.cuda", "manual_seed"), ("torch.cuda", "manual_seed_all")):
        owner = mod if owner_name == "torch" else sys.modules.get(owner_name)
        if owner is None:
            owner = getattr(mod, owner_name.split(".", 1)[1], None)
        orig = getattr(owner, attr, None) if owner is not None else None
        if orig is None or _c._is_wrapped(orig):
            continue
        setattr(owner, attr, _c._wraps(orig, _make_torch_seed(orig)))
    for name in _TORCH_DRAWS:
        orig = getattr(mod, name, None)
        if orig is None or _c._is_wrapped(orig):
            continue
        _torch_originals[name] = orig
        setattr(mod, name, _c._wraps(orig, _make_torch_draw(orig, "torch." + name)))


def _make_torch_seed(orig):
    def manual_seed(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard("torch.manual_seed", _on_torch_seed, args, kwargs)
        return orig(*args, **kwargs)
    return manual_seed


def _on_torch_seed(args, kwargs):
    s = args[0] if args else kwargs.get("seed")
    _c._torch_seeded = True
    _c._seed_event("torch", s)
    # once seeded, give TorchScript its builtins back
    torch = sys.modules.get("torch")
    if torch is not None:
        for name, orig in _torch_originals.items():
            try:
                if _c._is_wrapped(getattr(torch, name, None)):
                    setattr(torch, name, orig)
            except Exception:
                pass


def _make_torch_draw(orig, call):
    def draw(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _c._torch_seeded and _c._enabled and not getattr(_c._tls, "busy", False):
            _c._guard(call, _c._unseeded_event, "torch", call)
        return orig(*args, **kwargs)
    return draw


def _make_tf_seed(orig, where):
    def set_seed(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if _c._enabled and not getattr(_c._tls, "busy", False) and not getattr(_c._tls, "tfseed", False):
            _c._guard(where, _on_tf_seed, args, kwargs)
        _c._tls.tfseed = True
        try:
            return orig(*args, **kwargs)
        finally:
            _c._tls.tfseed = False
    return set_seed


def _on_tf_seed(args, kwargs):
    s = args[0] if args else kwargs.get("seed")
    if s is None:
        return
    _c._seed_event("tensorflow", s)


def _patch_tensorflow(mod):
    rnd = getattr(mod, "random", None)
    orig = getattr(rnd, "set_seed", None) if rnd is not None else None
    if orig is not None and not _c._is_wrapped(orig):
        rnd.set_seed = _c._wraps(orig, _make_tf_seed(orig, "tensorflow.random.set_seed"))


def _patch_keras_utils(mod):
    orig = mod.__dict__.get("set_random_seed")
    if orig is not None and not _c._is_wrapped(orig):
        mod.set_random_seed = _c._wraps(orig, _make_tf_seed(orig, "keras.utils.set_random_seed"))
