# -*- coding: utf-8 -*-
"""nb2prod capture internals.

Installed (by ``sitecustomize`` or by importing this module) when the
environment variable ``NB2PROD_EVENTS`` names a file.  Every tracked process
(the kernel of a notebook run, a script and its Python subprocesses; not the
notebook runner itself) appends JSON lines to that file: one ``os.write`` per
line on an ``O_APPEND|O_CREAT|O_WRONLY`` descriptor.  This module is the
reference for the event contract with the TypeScript side.

Rules followed everywhere:

* never break the user's program: every hook catches its own exceptions and
  reports them as ``capture_error`` events;
* stay cheap: the audit hook returns at once for events other than ``open``,
  nothing heavy is imported at start-up (numpy, pandas, scikit-learn, mlflow,
  torch, tensorflow/keras are patched when the user imports them, through a
  ``sys.meta_path`` finder that wraps the loader's ``exec_module``);
* never record the value of an environment variable, and never write a
  secret: every event line goes through the run's redactor (the values in
  $NB2PROD_REDACT become ``***``, see nb2prod_redact.py).

Events
------
Every event has "type", "pid" (os.getpid()) and "t" (time.time()).  JSON is
strict: NaN and infinities are the strings "NaN", "Infinity", "-Infinity";
values that are not JSON (params, seeds) become their repr().  Extra fields
may be added in future; none is removed.

{"type":"open","path":ABS,"write":BOOL}
    A file opened (sys.addaudithook "open"), once per (path, write) per
    process; write when the mode has w/a/x/+ or the flags O_WRONLY, O_RDWR,
    O_CREAT, O_APPEND or O_TRUNC.  Not reported: file descriptors, the events
    and cells files, directories, reads of files that do not exist, .pyc/.pyi,
    anything under sys.prefix, sys.base_prefix, the standard library,
    site-packages, dist-packages, /usr/lib, /usr/share, /usr/local/lib, /etc,
    /proc, /sys, /dev, /run, this package's directory, Jupyter and IPython
    directories (~/.ipython, ~/.jupyter, ~/.local/share/jupyter,
    $JUPYTER_*_DIR, $IPYTHONDIR, ipykernel_* temp dirs), matplotlib/fontconfig
    caches; and opens made while no user code is on the stack (interpreter
    start-up, kernel machinery).
{"type":"seed","library":L,"value":V,"location":LOC}
    L in random | numpy | numpy.random.Generator | numpy.random.RandomState |
    torch | tensorflow | sklearn.  random.seed(x) and numpy.random.seed(x)
    with x not None; default_rng(x) and RandomState(x) called directly from
    user code (not the RandomState(int) made inside libraries);
    torch.manual_seed, torch.cuda.manual_seed(_all); tf.random.set_seed,
    keras.utils.set_random_seed; an int random_state of a reported estimator
    at fit, of a splitter (shuffle=True) at split, of train_test_split.
    Reported once per (library, value, location).
{"type":"unseeded","library":L,"call":CALL,"location":LOC}
    Randomness drawn with no seed, once per (call, location):
    numpy.random.<legacy function> called by user code while numpy's global
    RNG was never seeded (numpy.random.seed(None) unseeds it again);
    "numpy.random.default_rng" / "numpy.random.RandomState" with no seed;
    "random.<function>" before random.seed; "<public class>.fit(random_state=None)"
    (also fit_transform / fit_predict, reported after the fit) for estimators
    that draw from their random_state as fitted (the linter's table, _RANDOM_WHEN
    in _patches: KMeans with an array init, PCA whose solver was full, a
    LogisticRegression with lbfgs do not), "<class>.split(random_state=None)" for shuffling
    splitters, "sklearn.model_selection.train_test_split(random_state=None)",
    "pandas.DataFrame.sample(random_state=None)" / "pandas.Series.sample(...)",
    all while numpy's global RNG was never seeded; "torch.rand|randn|randint|
    randperm" before any torch seed.
{"type":"estimator","class":QUALNAME,"params":{...},"location":LOC,"nested":BOOL}
    A scikit-learn fit (fit, fit_transform or fit_predict).  QUALNAME is the
    public path (sklearn.ensemble.RandomForestClassifier); params =
    get_params(deep=False), JSON-safe.  Top-level fits are reported
    ("nested": false).  A fit made while another fit runs is reported
    ("nested": true) only when the estimator is one of the parameters of the
    reported estimator fitting it (Pipeline steps, a meta-estimator's
    estimator); the library's own clones and sub-estimators (trees of a
    forest, GridSearchCV candidates) are not.  super().fit chains are one fit.
    Identical (class, params, location, nested) events are reported once.
{"type":"param","name":N,"value":V,"source":"logged"}
    nb2prod.log_param(s), mlflow.log_param(s), MlflowClient.log_param/log_batch.
{"type":"metric","name":N,"value":FLOAT_OR_NONFINITE_STRING,"step":INT_OR_NULL}
    nb2prod.log_metric(s), mlflow.log_metric(s), MlflowClient.log_metric/log_batch.
{"type":"artifact","path":ABS,"kind":"model"|"report"|"other"}
    nb2prod.log_artifact, mlflow.log_artifact, mlflow.log_artifacts (each file),
    MlflowClient.log_artifact.  Default kind "model" for .joblib .pkl .pickle
    .onnx .pt .pth .h5 .keras .cbm .ubj, else "other".
{"type":"profile","path":ABS_OR_NULL,"profile":{"rows":INT,"columns":[COL...]}}
    After pandas.read_csv|read_table|read_json|read_parquet|read_excel|
    read_feather|read_pickle return a DataFrame (path null for buffers and
    URLs).  COL = {"name","type":numeric|categorical|boolean|datetime|text,
    "count" (non-null),"nulls"}; numeric adds "bins":{"edges","counts"}
    (deciles of the finite values, duplicates collapsed, np.histogram counts;
    a constant column has edges [v, v] and counts [n]), "min","max","mean",
    "std" (ddof=1; 0 for one value), "integer": true for an integer dtype
    (int64, nullable Int64...), and "nonFinite" when +-inf were present
    (they count as non-null but are in no bin); an all-null numeric column has
    no bins or stats.  categorical/boolean/text add "top": [{"value","count"}]
    (at most 20, most frequent first).  Frames over 2,000,000 rows are
    profiled on 1,000,000 evenly spaced rows: the profile then has
    "sampled": true, "sampleRows", and "rows" is the full row count while the
    column counts refer to the sample.  At most 1000 columns
    ("truncatedColumns": total when more).
{"type":"python","version":"3.11.2","executable":PATH,"implementation":"CPython"}
{"type":"packages","packages":{DIST: VERSION},"installedSha256":HEX,"runtimePackages":{...}}
    By flush_environment() (the runner's teardown) and at exit of the run's
    root process (not of its subprocesses), skipped at exit when nothing was
    imported since the last flush.  packages = distributions of the top-level
    modules imported by the user's code (not the standard library, not
    nb2prod, not what the interpreter or the Jupyter kernel had loaded
    before the first cell: those are in "runtimePackages").
    installedSha256 = sha256 of "\\n".join(sorted("name.lower()==version")) over
    every installed distribution (first on sys.path wins).
{"type":"llm_call","call":{...}} / {"type":"llm_prompt",...} / {"type":"llm_unsupported",...}
    Calls made through the openai and anthropic clients, the prompt versions they used, and
    client versions whose calls cannot be captured: see nb2prod/_llm.py.
{"type":"capture_error","where":STR,"message":STR}
    A hook failed; the user's code went on.  At most 5 per "where".

LOC is "cell I, line L" in a notebook kernel (I = the cell's 0-based index in
the user's notebook, from $NB2PROD_CELLS, "?" when unknown -- recorded as is,
shown to people as "cell I+1" by locationLabel in src/core/notebook/cellLabel.ts;
L = line in that cell
of the innermost frame that belongs to a cell), else "RELPATH:LINE" of the
innermost user frame (relative to the working directory at start-up when
inside it, absolute otherwise).  Events that need a location are not reported
when no user code is on the stack.
"""
import atexit
import functools
import json
import os
import sys
import time

try:  # a thread-local without importing threading
    from _thread import _local as _Local
except Exception:  # pragma: no cover
    from threading import local as _Local

__all__ = ["install", "disable", "enabled", "flush_environment", "kernel_ready", "keep_fitted", "emit"]

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_ROOT_DIR = os.path.dirname(_PKG_DIR)  # the directory put on PYTHONPATH
_MISSING = object()
_SEP = os.sep

# --------------------------------------------------------------------------
# state
# --------------------------------------------------------------------------
_tls = _Local()

_installed = False
_enabled = False
_disabled_forever = False
_fd = -1
_fd_id = None  # (st_dev, st_ino) of the events file, to detect a reused fd
_events_path = None
_cells_path = None
_cwd0 = None
_pid = None
_is_root = False
_root_env_set_by_us = False
_redactor = None  # nb2prod_redact.Redactor of $NB2PROD_REDACT, or None when there is nothing to hide

_skip_exact = set()
_skip_prefixes = ()
_lib_prefixes = ()

_open_state = {}  # abs path -> bitmask (1 read sent, 2 write sent) or _SKIP
_SKIP = -1
_reported = set()  # generic once-per-process keys
_caller_seen = set()  # (call, code, lineno) fast path for unseeded draws
_error_counts = {}
_file_kind_cache = {}
_rel_cache = {}

# seeding state (per process)
_np_seeded = False
_random_seeded = False
_torch_seeded = False

# IPython / cells
_ip_registered = False
_cur_cell = None
_last_cell = -1
_cell_hashes = None  # sha256 -> [index, ...]
_cell_files = {}  # code filename -> cell index
_exec_to_index = {}  # IPython execution count -> cell index (of the cells that have run)
_ip = None
_baseline_tops = None  # top-level modules loaded before user code (start-up, kernel)

# environment
_python_sent = False
_last_tops = None
_dist_cache = None

_THIS_FILE = (lambda: None).__code__.co_filename
_OWN_FILES = {_THIS_FILE}  # + nb2prod/_patches.py once loaded

_MODEL_EXTS = (".joblib", ".pkl", ".pickle", ".onnx", ".pt", ".pth", ".h5",
               ".keras", ".cbm", ".ubj")


def enabled():
    """True when events are being written in this process."""
    return bool(_enabled)


# --------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------
def _float(v):
    if v != v:
        return "NaN"
    if v == float("inf"):
        return "Infinity"
    if v == float("-inf"):
        return "-Infinity"
    return v


def _repr(v):
    """repr(v), with numpy >= 2's scalar reprs inside it (``np.float64(0.5)``, ``np.True_``)
    written as numpy 1 wrote them (``0.5``, ``True``): an estimator or tuple recorded by its repr
    reads the same whichever numpy the run used."""
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            numpy2 = int(str(getattr(np, "__version__", "0")).split(".")[0]) >= 2
        except ValueError:
            numpy2 = False
        if numpy2:
            with np.printoptions(legacy="1.25"):
                return repr(v)
    return repr(v)


def _short_repr(v, limit=1000):
    try:
        r = _repr(v)
    except Exception:
        try:
            r = "<%s>" % type(v).__name__
        except Exception:
            r = "<unrepresentable>"
    if len(r) > limit:
        r = r[: limit - 3] + "..."
    return r


def _jsonable(v, depth=0):
    """Convert *v* into strict-JSON-safe data (repr() fallback)."""
    t = type(v)
    if v is None or t is bool:
        return v
    if t is str:
        return v if len(v) <= 20000 else v[:20000]
    if t is int:
        return v
    if t is float:
        return _float(v)
    if depth > 8:
        return _short_repr(v)
    if isinstance(v, dict):
        out = {}
        for i, (k, x) in enumerate(v.items()):
            if i >= 2000:
                break
            if not isinstance(k, str):
                k = str(k) if isinstance(k, (int, float, bool)) else _short_repr(k)
            out[k] = _jsonable(x, depth + 1)
        return out
    if isinstance(v, (list, tuple)):
        return [_jsonable(x, depth + 1) for x in v[:2000]]
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _float(float(v))
    if isinstance(v, str):
        return _jsonable(str(v), depth)
    if isinstance(v, (set, frozenset)):
        items = list(v)[:2000]
        try:
            items.sort()
        except Exception:
            pass
        return [_jsonable(x, depth + 1) for x in items]
    mod = getattr(t, "__module__", "") or ""
    if mod == "numpy" or mod.startswith("numpy."):
        try:
            size = getattr(v, "size", None)
            if getattr(v, "ndim", None) == 0 or (size is not None and not hasattr(v, "shape")):
                return _jsonable(v.item(), depth + 1)
            if size is not None and size <= 2000 and hasattr(v, "tolist"):
                return _jsonable(v.tolist(), depth + 1)
        except Exception:
            pass
        return _short_repr(v)
    if hasattr(v, "__fspath__"):
        try:
            p = os.fspath(v)
            return p if isinstance(p, str) else _short_repr(p)
        except Exception:
            pass
    return _short_repr(v)


# --------------------------------------------------------------------------
# event writing
# --------------------------------------------------------------------------
def _open_events_file():
    global _fd, _fd_id
    flags = os.O_APPEND | os.O_CREAT | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(_events_path, flags, 0o644)
    try:
        st = os.fstat(fd)
        _fd_id = (st.st_dev, st.st_ino)
    except OSError:
        _fd_id = None
    _fd = fd


def _write_line(data):
    """Append one line; reopen if our descriptor was closed or reused."""
    fd = _fd
    try:
        st = os.fstat(fd)
        ok = _fd_id is None or (st.st_dev, st.st_ino) == _fd_id
    except OSError:
        ok = False
    if not ok:
        _open_events_file()
        fd = _fd
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _emit(obj):
    """Write one event (caller must hold the busy guard or not care)."""
    if not _enabled or _events_path is None:
        return
    obj["pid"] = os.getpid()
    obj["t"] = time.time()
    try:
        line = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        line = json.dumps(_jsonable(obj), allow_nan=False, separators=(",", ":"))
    if _redactor is not None:
        line = _redactor.json_line(line)
    _write_line((line + "\n").encode("utf-8"))


def emit(event):
    """Public, guarded: write *event* (a dict with a "type")."""
    if not _enabled:
        return
    _guard("emit", _emit, dict(event))


def _capture_error(where, exc):
    try:
        n = _error_counts.get(where, 0)
        if n >= 5:
            return
        _error_counts[where] = n + 1
        msg = "%s: %s" % (type(exc).__name__, exc)
        if len(msg) > 2000:
            msg = msg[:2000]
        _emit({"type": "capture_error", "where": where, "message": msg})
    except Exception:
        pass


def _guard(where, fn, *args):
    """Run fn(*args) with the busy flag set; swallow and report errors."""
    if getattr(_tls, "busy", False):
        return None
    _tls.busy = True
    try:
        return fn(*args)
    except Exception as e:  # never break the user's code
        _capture_error(where, e)
        return None
    finally:
        _tls.busy = False


def _once(key):
    if key in _reported:
        return False
    _reported.add(key)
    return True


# --------------------------------------------------------------------------
# paths: what to skip, what is library code
# --------------------------------------------------------------------------
def _norm_prefix(p):
    try:
        p = os.path.abspath(p)
    except Exception:
        return None
    if not p or p == _SEP or len(p) < 2:
        return None
    return p.rstrip(_SEP) + _SEP


def _build_skips():
    global _skip_prefixes, _lib_prefixes
    sysdirs = []
    for p in (sys.prefix, sys.base_prefix, getattr(sys, "exec_prefix", None),
              getattr(sys, "base_exec_prefix", None)):
        if p:
            sysdirs.append(p)
    stdlib = os.path.dirname(os.__file__)
    libs = sysdirs + [stdlib, "/usr/lib", "/usr/share", "/usr/local/lib", _ROOT_DIR]
    fixed = ["/etc", "/proc", "/sys", "/dev", "/run"]
    home = os.path.expanduser("~")
    homes = []
    if home and home != _SEP:
        for sub in (".ipython", ".jupyter", os.path.join(".local", "share", "jupyter"),
                    os.path.join(".cache", "matplotlib"), os.path.join(".config", "matplotlib"),
                    ".matplotlib", os.path.join(".cache", "fontconfig")):
            homes.append(os.path.join(home, sub))
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR",
                "IPYTHONDIR", "MPLCONFIGDIR"):
        v = os.environ.get(var)
        if v:
            homes.append(v)
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        homes.append(os.path.join(xdg, "jupyter"))
    skip = []
    for p in libs + fixed + homes:
        n = _norm_prefix(p)
        if n and n not in skip:
            skip.append(n)
    _skip_prefixes = tuple(skip)
    lib = []
    for p in libs:
        n = _norm_prefix(p)
        if n and n not in lib:
            lib.append(n)
    _lib_prefixes = tuple(lib)


def _skip_path(ap):
    if ap in _skip_exact:
        return True
    if (ap + _SEP).startswith(_skip_prefixes):
        return True
    if "/site-packages/" in ap or "/dist-packages/" in ap:
        return True
    if ap.endswith((".pyc", ".pyi")):
        return True
    parent = os.path.basename(os.path.dirname(ap))
    if parent.startswith("ipykernel_"):
        return True
    return False


# file kinds for frames
_K_LIB, _K_USER, _K_CELL, _K_WEAK = 0, 1, 2, 3


def _file_kind(fn):
    k = _file_kind_cache.get(fn)
    if k is not None:
        return k
    if fn.startswith("<"):
        if fn.startswith("<ipython-input"):
            k = _K_CELL
        elif fn in ("<stdin>", "<string>"):
            k = _K_WEAK
        else:
            k = _K_LIB
    elif fn.endswith(".py") and os.path.basename(os.path.dirname(fn)).startswith("ipykernel_"):
        k = _K_CELL
    else:
        try:
            ap = os.path.abspath(fn)
        except Exception:
            ap = fn
        if ap.startswith(_lib_prefixes) or "/site-packages/" in ap or "/dist-packages/" in ap:
            k = _K_LIB
        else:
            k = _K_USER
    _file_kind_cache[fn] = k
    return k


def _rel(fn):
    r = _rel_cache.get(fn)
    if r is None:
        r = fn
        try:
            if fn.startswith("<"):
                r = fn
            else:
                ap = os.path.abspath(fn)
                base = _cwd0.rstrip(_SEP) + _SEP if _cwd0 else None
                if base and ap.startswith(base):
                    r = os.path.relpath(ap, _cwd0)
                else:
                    r = ap
        except Exception:
            r = fn
        _rel_cache[fn] = r
    return r


def _has_user_frame():
    f = sys._getframe(1)
    while f is not None:
        if _file_kind(f.f_code.co_filename) != _K_LIB:
            return True
        f = f.f_back
    return False


def _location():
    """Location of the innermost user frame, or None if there is none."""
    if not _ip_registered and "IPython" in sys.modules:
        _ipython_check()
    f = sys._getframe(1)
    inner_cell = outer_cell = user = weak = None
    while f is not None:
        code = f.f_code
        k = _file_kind(code.co_filename)
        if k == _K_CELL:
            if inner_cell is None:
                inner_cell = f
            outer_cell = f
        elif k == _K_USER:
            if user is None:
                user = f
        elif k == _K_WEAK:
            weak = f
        f = f.f_back
    if inner_cell is not None:
        outer_fn = outer_cell.f_code.co_filename
        if _cur_cell is not None:
            _cell_files[outer_fn] = _cur_cell
        idx = _cell_index_of(inner_cell.f_code.co_filename)
        return "cell %s, line %d" % ("?" if idx is None else idx, inner_cell.f_lineno)
    if user is not None:
        return "%s:%d" % (_rel(user.f_code.co_filename), user.f_lineno)
    if weak is not None:
        return "%s:%d" % (weak.f_code.co_filename, weak.f_lineno)
    return None


# --------------------------------------------------------------------------
# audit hook: file opens
# --------------------------------------------------------------------------
_WRITE_FLAGS = (os.O_WRONLY | os.O_RDWR | os.O_CREAT | getattr(os, "O_APPEND", 0)
                | getattr(os, "O_TRUNC", 0))


def _audit(event, args):
    if event != "open":
        return
    try:
        if not _enabled or getattr(_tls, "busy", False):
            return
        _tls.busy = True
        try:
            _on_open(args)
        finally:
            _tls.busy = False
    except Exception as e:
        try:
            _tls.busy = True
            try:
                _capture_error("audit.open", e)
            finally:
                _tls.busy = False
        except Exception:
            pass


def _on_open(args):
    path = args[0]
    if isinstance(path, int):
        return
    if not isinstance(path, str):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        else:
            try:
                path = os.fspath(path)
            except TypeError:
                return
            if isinstance(path, bytes):
                path = os.fsdecode(path)
    if not path:
        return
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else None
    if isinstance(mode, str):
        write = ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
    elif isinstance(flags, int):
        write = bool(flags & _WRITE_FLAGS)
    else:
        write = False
    ap = os.path.abspath(path)
    st = _open_state.get(ap)
    if st == _SKIP:
        return
    bit = 2 if write else 1
    if st is not None and st & bit:
        return
    if st is None and _skip_path(ap):
        _open_state[ap] = _SKIP
        return
    try:
        s = os.stat(ap)
    except OSError:
        s = None
        if not write:
            return  # the open will fail: nothing was read
    if s is not None and (s.st_mode & 0o170000) == 0o040000:
        _open_state[ap] = _SKIP  # a directory
        return
    if not _has_user_frame():
        return  # interpreter or kernel machinery, not the user's code
    _open_state[ap] = (st or 0) | bit
    _emit({"type": "open", "path": ap, "write": write})


# --------------------------------------------------------------------------
# meta path finder: patch libraries when they are imported
# --------------------------------------------------------------------------
_TARGETS = {
    "random": "_patch_random",
    "numpy.random": "_patch_numpy_random",
    "pandas": "_patch_pandas",
    "mlflow": "_patch_mlflow",
    "mlflow.tracking.client": "_patch_mlflow_client",
    "torch": "_patch_torch",
    "tensorflow": "_patch_tensorflow",
    "openai": "_patch_llm_openai",
    "anthropic": "_patch_llm_anthropic",
}
_KERAS_TOPS = ("keras", "tf_keras", "tensorflow")


def _patcher_for(name):
    p = _TARGETS.get(name)
    if p is not None:
        return p
    if name == "sklearn" or name.startswith("sklearn."):
        return "_patch_sklearn_module"
    if name.endswith(".utils") and name.split(".", 1)[0] in _KERAS_TOPS:
        return "_patch_keras_utils"
    return None


def _on_imported(name, module):
    p = _patcher_for(name)
    if p is None or not _enabled:
        return
    prev = getattr(_tls, "busy", False)
    _tls.busy = True
    try:
        fn = globals().get(p)
        if fn is None and p.startswith("_patch_llm_"):  # LLM clients: nb2prod/_llm.py
            from . import _llm
            fn = getattr(_llm, p)
        elif fn is None:  # the third-party patches live in a module loaded on demand
            from . import _patches
            fn = getattr(_patches, p)
        fn(module)
    except Exception as e:
        _capture_error("patch:" + name, e)
    finally:
        _tls.busy = prev


class _Finder(object):
    """Wraps exec_module of the loaders of the modules we patch."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _TARGETS and _patcher_for(fullname) is None:
            return None
        if getattr(_tls, "finding", False) or not _enabled:
            return None
        _tls.finding = True
        try:
            spec = None
            for finder in list(sys.meta_path):
                if finder is self:
                    continue
                fs = getattr(finder, "find_spec", None)
                if fs is None:
                    continue
                try:
                    spec = fs(fullname, path, target)
                except Exception:
                    spec = None
                if spec is not None:
                    break
            if spec is None:
                return None
            loader = spec.loader
            orig = getattr(loader, "exec_module", None) if loader is not None else None
            if orig is None:
                return spec

            def exec_module(module, _orig=orig, _name=fullname):
                _orig(module)
                try:
                    _on_imported(_name, module)
                except Exception:
                    pass

            if _per_module_loader(loader):
                try:
                    loader.exec_module = exec_module
                    return spec
                except Exception:
                    pass
            # a loader shared by several modules (zipimport, frozen, custom):
            # never touch it, put a per-module proxy in the spec instead
            spec.loader = _LoaderProxy(loader, exec_module)
            return spec
        except Exception:
            return None
        finally:
            _tls.finding = False


def _per_module_loader(loader):
    """True for the file loaders that FileFinder creates afresh for each module."""
    if isinstance(loader, type):
        return False
    try:
        import _frozen_importlib_external as fie
    except Exception:  # pragma: no cover
        return False
    return type(loader) in (fie.SourceFileLoader, fie.SourcelessFileLoader,
                            fie.ExtensionFileLoader)


class _LoaderProxy(object):
    def __init__(self, loader, exec_module):
        self.__dict__["_nb2prod_loader"] = loader
        self.__dict__["exec_module"] = exec_module

    def create_module(self, spec):
        cm = getattr(self._nb2prod_loader, "create_module", None)
        return cm(spec) if cm is not None else None

    def __getattr__(self, name):
        return getattr(self.__dict__["_nb2prod_loader"], name)


def _wraps(orig, wrapper):
    try:
        functools.update_wrapper(wrapper, orig)
    except Exception:
        pass
    try:
        wrapper._nb2prod = True
    except Exception:
        pass
    return wrapper


def _is_wrapped(f):
    return getattr(f, "_nb2prod", False) is True


def _int_like(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    mod = getattr(type(v), "__module__", "") or ""
    if mod == "numpy" and hasattr(v, "item"):
        try:
            return isinstance(v.item(), int) and not isinstance(v.item(), bool)
        except Exception:
            return False
    return False


def _seed_event(library, value):
    loc = _location()
    if loc is None:
        return
    jv = _jsonable(value)
    try:
        key = ("seed", library, json.dumps(jv, sort_keys=True), loc)
    except Exception:
        key = ("seed", library, repr(jv), loc)
    if not _once(key):
        return
    _emit({"type": "seed", "library": library, "value": jv, "location": loc})


def _unseeded_event(library, call):
    # fast path: the immediate caller outside this package, seen before
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename in _OWN_FILES:
        f = f.f_back
    if f is not None:
        ck = (call, f.f_code, f.f_lineno)
        if ck in _caller_seen:
            return
        _caller_seen.add(ck)
    loc = _location()
    if loc is None:
        return
    if not _once(("unseeded", call, loc)):
        return
    _emit({"type": "unseeded", "library": library, "call": call, "location": loc})


def _called_from_user():
    """True when the caller of our wrapper is user code (not a library)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename in _OWN_FILES:
        f = f.f_back
    if f is None:
        return False
    return _file_kind(f.f_code.co_filename) != _K_LIB


def _unseeded_draw(library, call):
    """A global-RNG draw: reported when the user's code called it directly
    (draws made by libraries, e.g. DataFrame.sample, are reported by the
    library's own hook)."""
    if _called_from_user():
        _unseeded_event(library, call)


def _artifact_kind(path):
    return "model" if path.lower().endswith(_MODEL_EXTS) else "other"


# ---- random ---------------------------------------------------------------
_RANDOM_FUNCS = ("random", "randint", "choice", "shuffle", "sample", "uniform", "gauss",
                 "randrange", "choices", "normalvariate", "triangular", "betavariate",
                 "expovariate", "gammavariate", "lognormvariate", "vonmisesvariate",
                 "paretovariate", "weibullvariate", "getrandbits", "randbytes", "binomialvariate")


def _patch_random(mod):
    if getattr(mod, "_nb2prod_patched", False):
        return
    mod._nb2prod_patched = True
    orig_seed = mod.seed

    def seed(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if _enabled:
            _guard("random.seed", _on_random_seed, args, kwargs)
        return orig_seed(*args, **kwargs)

    mod.seed = _wraps(orig_seed, seed)
    orig_setstate = getattr(mod, "setstate", None)
    if orig_setstate is not None:
        def setstate(*args, **kwargs):
            __tracebackhide__ = True  # hidden from IPython tracebacks
            global _random_seeded
            _random_seeded = True
            return orig_setstate(*args, **kwargs)
        mod.setstate = _wraps(orig_setstate, setstate)
    for name in _RANDOM_FUNCS:
        orig = getattr(mod, name, None)
        if orig is None or _is_wrapped(orig):
            continue
        setattr(mod, name, _wraps(orig, _make_random_draw(orig, "random." + name)))


def _make_random_draw(orig, call):
    def draw(*args, **kwargs):
        __tracebackhide__ = True  # hidden from IPython tracebacks
        if not _random_seeded and _enabled and not getattr(_tls, "busy", False):
            _guard(call, _unseeded_draw, "random", call)
        return orig(*args, **kwargs)
    return draw


def _on_random_seed(args, kwargs):
    global _random_seeded
    a = args[0] if args else kwargs.get("a", None)
    if a is None:
        _random_seeded = False
        return
    _random_seeded = True
    _seed_event("random", a)


# --------------------------------------------------------------------------
# IPython: which notebook cell is running
# --------------------------------------------------------------------------
def _cell_index_of(filename):
    """Notebook cell index of the code compiled under *filename*."""
    if _ip is not None:
        try:
            num = _ip.compile._filename_map.get(filename)
        except Exception:
            num = None
        if num is not None and num in _exec_to_index:
            return _exec_to_index[num]
    return _cell_files.get(filename)


def _ipython_check():
    global _ip_registered, _ip
    if _ip_registered:
        return
    mod = sys.modules.get("IPython")
    gi = getattr(mod, "get_ipython", None) if mod is not None else None
    if gi is None:
        return
    ip = gi()
    if ip is None or not hasattr(ip, "events"):
        return
    _ip_registered = True
    _ip = ip
    ip.events.register("pre_run_cell", _on_pre_run_cell)
    ip.events.register("post_run_cell", _on_post_run_cell)


def _load_cells():
    global _cell_hashes
    if _cell_hashes is not None:
        return _cell_hashes
    _cell_hashes = {}
    if _cells_path:
        try:
            with open(_cells_path, "r", encoding="utf-8") as fh:
                data = json.load(fh)
            for item in data:
                _cell_hashes.setdefault(str(item["sha256"]), []).append(int(item["index"]))
        except Exception as e:
            _capture_error("cells", e)
    return _cell_hashes


def _on_pre_run_cell(info=None, *rest):
    _guard("pre_run_cell", _pre_run_cell, info)


def _pre_run_cell(info):
    global _cur_cell, _last_cell
    raw = getattr(info, "raw_cell", None)
    _cur_cell = None
    if not isinstance(raw, str):
        return
    import hashlib
    sha = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    idxs = _load_cells().get(sha)
    if not idxs:
        return
    pick = None
    for i in idxs:
        if i > _last_cell:
            pick = i
            break
    if pick is None:
        pick = idxs[0]
    _cur_cell = pick
    _last_cell = pick


def _on_post_run_cell(result=None, *rest):
    _guard("post_run_cell", _post_run_cell, result)


def _post_run_cell(result):
    # The cell's execution count is known for sure only from its result: IPython >= 9.8 adds one
    # to shell.execution_count before pre_run_cell, older releases after it. While a cell runs,
    # its own code is found through _cell_files (see _location).
    count = getattr(result, "execution_count", None)
    if _cur_cell is not None and isinstance(count, int):
        _exec_to_index[count] = _cur_cell


def _top_modules():
    tops = set()
    for name, m in list(sys.modules.items()):
        if m is None:
            continue
        tops.add(name.partition(".")[0])
    return tops


def kernel_ready():
    """Called by the runner's silent setup code before the first cell."""
    if not _enabled:
        return
    _guard("kernel_ready", _kernel_ready)


def _kernel_ready():
    global _baseline_tops
    _ipython_check()
    _load_cells()
    _baseline_tops = _top_modules()


# --------------------------------------------------------------------------
# environment: python and packages
# --------------------------------------------------------------------------
def _dist_norm(name):
    return name.lower().replace("_", "-").replace(".", "-")


def _read_meta(path):
    try:
        with open(path, "rb") as fh:
            head = fh.read(16384)
    except OSError:
        return None, None
    name = version = None
    for line in head.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        if name is None and line.startswith("Name:"):
            name = line[5:].strip()
        elif version is None and line.startswith("Version:"):
            version = line[8:].strip()
        if name and version:
            break
    return name, version


def _read_lines(path):
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return [l.strip() for l in fh.read().splitlines() if l.strip()]
    except OSError:
        return None


def _scan_dists():
    dists = []  # [name, version, tops (set or None), dir]
    seen = set()
    for entry in list(sys.path):
        d = entry or os.getcwd()
        try:
            names = sorted(os.listdir(d))
        except (OSError, TypeError):
            continue
        infos = [n for n in names if n.endswith(".dist-info")]
        eggs = [n for n in names if n.endswith(".egg-info")]
        for fn in infos + eggs:
            full = os.path.join(d, fn)
            if fn.endswith(".dist-info"):
                name, version = _read_meta(os.path.join(full, "METADATA"))
            else:
                name, version = _read_meta(os.path.join(full, "PKG-INFO"))
                if name is None:
                    name, version = _read_meta(full)  # egg-info as a file
            if not name or not version:
                continue
            norm = _dist_norm(name)
            if norm in seen:
                continue
            seen.add(norm)
            tl = _read_lines(os.path.join(full, "top_level.txt"))
            dists.append([name, version, set(tl) if tl is not None else None, full])
    return dists


def _record_tops(dist_dir):
    tops = set()
    lines = _read_lines(os.path.join(dist_dir, "RECORD")) or []
    for l in lines:
        p = l.split(",", 1)[0]
        if not p or p.startswith(".."):
            continue
        first = p.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")) or first == "__pycache__":
            continue
        if "/" not in p:
            if first.endswith(".py"):
                first = first[:-3]
            elif first.endswith((".so", ".pyd")):
                first = first.split(".", 1)[0]
            else:
                continue
        if first.isidentifier():
            tops.add(first)
    return tops


def _dist_index():
    global _dist_cache
    if _dist_cache is None:
        dists = _scan_dists()
        lines = sorted(set("%s==%s" % (n.lower(), v) for n, v, _t, _d in dists))
        import hashlib
        sha = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
        _dist_cache = {"dists": dists, "sha": sha, "records_loaded": False}
    return _dist_cache


def _dists_for(tops):
    idx = _dist_index()
    dists = idx["dists"]
    out = {}
    missing = set(tops)
    for name, version, tl, _d in dists:
        if tl and tl & tops:
            out[name] = version
            missing -= tl
    if missing and not idx["records_loaded"]:
        idx["records_loaded"] = True
        for dist in dists:
            if dist[2] is None and dist[3].endswith(".dist-info"):
                dist[2] = _record_tops(dist[3])
    if missing:
        bynorm = {}
        for name, version, tl, _d in dists:
            bynorm.setdefault(_dist_norm(name), (name, version))
            if tl and tl & missing:
                out[name] = version
        for m in missing:
            hit = bynorm.get(_dist_norm(m))
            if hit is not None:
                out[hit[0]] = hit[1]
    return out


_OWN_MODULES = {"__main__", "sitecustomize", "usercustomize", "nb2prod", "nb2prod_runner",
                "_nb2prod_chained_sitecustomize", "__mp_main__"}


def _user_tops(tops):
    std = getattr(sys, "stdlib_module_names", ())
    builtin = sys.builtin_module_names
    return set(t for t in tops if t and t not in _OWN_MODULES and t not in std
               and t not in builtin)


def flush_environment():
    """Emit the python and packages events now (guarded, idempotent-ish)."""
    if not _enabled:
        return
    _guard("flush_environment", _flush_environment, False)


def _flush_environment(final):
    global _python_sent, _last_tops
    if not _python_sent:
        _python_sent = True
        impl = sys.implementation.name
        impl = {"cpython": "CPython", "pypy": "PyPy"}.get(impl, impl)
        v = sys.version_info
        _emit({"type": "python", "version": "%d.%d.%d" % (v[0], v[1], v[2]),
               "executable": sys.executable, "implementation": impl})
    tops = _user_tops(_top_modules())
    if final and _last_tops is not None and tops == _last_tops:
        return
    _last_tops = tops
    base = _user_tops(_baseline_tops) if _baseline_tops is not None else set()
    packages = _dists_for(tops - base)
    ev = {"type": "packages", "packages": dict(sorted(packages.items())),
          "installedSha256": _dist_index()["sha"]}
    if base:
        rp = _dists_for(base & tops)
        ev["runtimePackages"] = dict(sorted((k, v) for k, v in rp.items() if k not in packages))
    _emit(ev)


def _atexit():
    if not _enabled or os.getpid() != _pid or not _is_root:
        return
    _guard("atexit", _flush_environment, True)
    # A script's run ends here; a kernel's ended with the runner's keep_fitted (or failed).
    if not _run_failed and not _in_kernel():
        main = sys.modules.get("__main__")
        if main is not None:
            keep_fitted(getattr(main, "__dict__", {}))


# --------------------------------------------------------------------------
# fitted objects (nb2prod._fitted)
# --------------------------------------------------------------------------
_run_failed = False
_fitted_kept = False
_prev_excepthook = None


def _in_kernel():
    return _ip is not None or "ipykernel" in sys.modules


def _excepthook(*args):
    global _run_failed
    _run_failed = True  # an uncaught exception: the run failed, nothing is kept
    hook = _prev_excepthook or sys.__excepthook__
    return hook(*args)


def keep_fitted(namespace=None):
    """Keep the fitted estimators the run's globals hold (see nb2prod._fitted). Called by the
    runner's silent teardown after the last cell of a notebook run that succeeded (namespace:
    the kernel's), and at exit of a script's root process that did not raise."""
    if not _enabled:
        return
    _guard("keep_fitted", _keep_fitted, namespace)


def _keep_fitted(namespace):
    global _fitted_kept, _last_tops
    if _fitted_kept:
        return
    _fitted_kept = True
    if namespace is None:
        if _ip is None:
            _ipython_check()
        namespace = getattr(_ip, "user_ns", None)
        if namespace is None:
            main = sys.modules.get("__main__")
            namespace = getattr(main, "__dict__", {}) if main is not None else {}
    patches = sys.modules.get("nb2prod._patches")
    anonymous = dict(getattr(patches, "_top_fits", None) or {}) if patches is not None else {}
    from . import _fitted
    _fitted.keep(namespace, anonymous)
    # joblib, imported here, is not something the run imported
    _last_tops = _user_tops(_top_modules())


def _after_fork_child():
    global _pid, _is_root, _open_state, _reported, _caller_seen, _python_sent, _last_tops
    _pid = os.getpid()
    _is_root = False
    _open_state = {}
    _reported = set()
    _caller_seen = set()
    _python_sent = False
    _last_tops = None


# --------------------------------------------------------------------------
# install / disable
# --------------------------------------------------------------------------
def _load_redactor():
    """The run's redactor (nb2prod_redact.py beside this package, loaded by
    path: it must work whatever sys.path is).  Secrets to hide that cannot be
    hidden mean no events at all."""
    if not os.environ.get("NB2PROD_REDACT"):
        return None
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "nb2prod_redact", os.path.join(_ROOT_DIR, "nb2prod_redact.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    redactor = module.from_environment()
    return redactor if redactor else None


def install():
    """Install the capture if NB2PROD_EVENTS is set (idempotent)."""
    global _installed, _enabled, _events_path, _cells_path, _cwd0, _pid, _is_root
    global _root_env_set_by_us, _baseline_tops, _prev_excepthook, _redactor
    if _installed or _disabled_forever:
        return _enabled
    path = os.environ.get("NB2PROD_EVENTS")
    if not path:
        return False
    _installed = True
    try:
        _redactor = _load_redactor()
        _events_path = os.path.abspath(path)
        cells = os.environ.get("NB2PROD_CELLS")
        _cells_path = os.path.abspath(cells) if cells else None
        _cwd0 = os.getcwd()
        _pid = os.getpid()
        root = os.environ.get("NB2PROD_ROOT_PID")
        if not root:
            os.environ["NB2PROD_ROOT_PID"] = str(_pid)
            _root_env_set_by_us = True
            _is_root = True
        else:
            _is_root = root == str(_pid)
        _build_skips()
        _skip_exact.add(_events_path)
        if _cells_path:
            _skip_exact.add(_cells_path)
        _open_events_file()
        _enabled = True
    except Exception:
        _enabled = False
        return False
    try:
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_child)
    except Exception:
        pass
    try:
        sys.meta_path.insert(0, _Finder())
    except Exception as e:
        _guard("install", _capture_error, "install.meta_path", e)
    # modules already imported: patch now
    for name in list(sys.modules):
        if _patcher_for(name) is not None and sys.modules.get(name) is not None:
            _on_imported(name, sys.modules[name])
    if hasattr(sys, "addaudithook"):
        try:
            sys.addaudithook(_audit)
        except Exception as e:
            _guard("install", _capture_error, "install.audit", e)
    atexit.register(_atexit)
    if _is_root:
        _prev_excepthook = sys.excepthook
        sys.excepthook = _excepthook
    _baseline_tops = _top_modules()
    return True


def disable():
    """Stop capturing in this process for good (used by the notebook runner)."""
    global _enabled, _disabled_forever
    _enabled = False
    _disabled_forever = True
    if _root_env_set_by_us and os.environ.get("NB2PROD_ROOT_PID") == str(_pid):
        os.environ.pop("NB2PROD_ROOT_PID", None)


if os.environ.get("NB2PROD_EVENTS"):
    install()
