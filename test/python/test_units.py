"""In-process unit tests: the public API, JSON safety, profiles, audit-hook decisions."""
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

import nb2prod
from nb2prod import _capture, _patches


# ---- public API without NB2PROD_EVENTS ----------------------------------------
def test_api_is_a_validating_noop_when_untracked(tmp_path):
    assert not _capture.enabled()
    nb2prod.log_metric("acc", 0.5)
    nb2prod.log_metric("acc", np.float32(0.5), step=np.int64(3))
    nb2prod.log_metric("acc", np.array(0.5))
    nb2prod.log_metric("acc", float("nan"))
    nb2prod.log_metric("n", 7)
    nb2prod.log_metrics({"a": 1.0, "b": float("inf")}, step=2)
    nb2prod.log_param("p", {"nested": [1, object()]})
    nb2prod.log_params({"x": 1, "y": None})
    f = tmp_path / "m.onnx"
    f.write_bytes(b"x")
    nb2prod.log_artifact(f)
    nb2prod.log_artifact(str(f), kind="report")


@pytest.mark.parametrize("call, exc", [
    (lambda: nb2prod.log_metric("", 1.0), ValueError),
    (lambda: nb2prod.log_metric(None, 1.0), TypeError),
    (lambda: nb2prod.log_metric("m", "0.5"), TypeError),
    (lambda: nb2prod.log_metric("m", True), TypeError),
    (lambda: nb2prod.log_metric("m", None), TypeError),
    (lambda: nb2prod.log_metric("m", 1 + 2j), TypeError),
    (lambda: nb2prod.log_metric("m", 1.0, step=1.5), TypeError),
    (lambda: nb2prod.log_metrics([("a", 1)]), TypeError),
    (lambda: nb2prod.log_metrics({"a": "x"}), TypeError),
    (lambda: nb2prod.log_param("", 1), ValueError),
    (lambda: nb2prod.log_params({1: 2}), TypeError),
    (lambda: nb2prod.log_artifact(3), TypeError),
    (lambda: nb2prod.log_artifact("does-not-exist.bin"), FileNotFoundError),
])
def test_api_validation(call, exc):
    with pytest.raises(exc):
        call()


def test_artifact_kinds():
    k = _capture._artifact_kind
    for ext in (".joblib", ".pkl", ".pickle", ".onnx", ".pt", ".pth", ".h5", ".keras",
                ".cbm", ".ubj", ".PKL"):
        assert k("/a/model" + ext) == "model", ext
    for ext in (".json", ".csv", ".html", ".txt", ""):
        assert k("/a/file" + ext) == "other", ext


# ---- strict JSON -----------------------------------------------------------------
def test_jsonable_is_strict():
    v = _capture._jsonable({
        "nan": float("nan"), "inf": float("inf"), "ninf": -math.inf, "np": np.float64("nan"),
        "i": np.int64(3), "b": np.bool_(True), "arr": np.arange(3), "t": (1, "a"),
        "obj": object(), 5: "int key", "set": {2, 1}, "path": __import__("pathlib").Path("/x"),
    })
    s = json.dumps(v, allow_nan=False)
    back = json.loads(s)
    assert back["nan"] == "NaN" and back["inf"] == "Infinity" and back["ninf"] == "-Infinity"
    assert back["np"] == "NaN" and back["i"] == 3 and back["b"] is True
    assert back["arr"] == [0, 1, 2] and back["t"] == [1, "a"] and back["5"] == "int key"
    assert back["obj"].startswith("<object object") and back["set"] == [1, 2]
    assert back["path"] == "/x"


def test_reprs_of_numpy_scalars_read_as_in_numpy_1():
    # numpy 2 writes np.float64(0.5) where numpy 1 wrote 0.5: a value recorded by its repr
    # (here an estimator whose params came from np.logspace) must not depend on that
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=np.float64(0.5), max_iter=np.int64(50))
    assert _capture._jsonable(model) == "LogisticRegression(C=0.5, max_iter=50)"
    assert _capture._short_repr(range(np.int64(2))) == "range(0, 2)"
    assert _capture._short_repr((np.int64(3), np.str_("a"), np.bool_(True))) == "(3, 'a', True)"
    # and numpy's own print options are left as they were
    assert np.get_printoptions()["legacy"] is False


# ---- profiles --------------------------------------------------------------------
def _cols(df):
    return {c["name"]: c for c in _patches._profile_frame(df)["columns"]}


def test_profile_numeric_edges_and_counts():
    rng = np.random.RandomState(0)
    vals = rng.normal(size=1000)
    vals[::7] = np.nan
    c = _cols(pd.DataFrame({"x": vals}))["x"]
    assert c["type"] == "numeric" and c["nulls"] == 143 and c["count"] == 857
    e = c["bins"]["edges"]
    assert len(e) == 11 and all(a < b for a, b in zip(e, e[1:]))
    assert sum(c["bins"]["counts"]) == 857 and len(c["bins"]["counts"]) == 10
    expected, _ = np.histogram(vals[~np.isnan(vals)], bins=e)
    assert c["bins"]["counts"] == expected.tolist()
    assert c["min"] == e[0] and c["max"] == e[-1]
    assert abs(c["std"] - np.nanstd(vals, ddof=1)) < 1e-9


def test_profile_edge_cases():
    df = pd.DataFrame({
        "const": [5] * 10,
        "allnull": [np.nan] * 10,
        "withinf": [1.0, np.inf, 2.0, 3.0, -np.inf, 4.0, 5.0, 6.0, 7.0, np.nan],
        "flag": [True, False] * 5,
        "objflag": [True, None, False, True, False, True, True, False, True, None],
        "when": pd.date_range("2024-01-01", periods=10),
        "cat": pd.Categorical(list("aabbccaabb")),
        "text": ["row number %d" % i for i in range(10)],
        "nullable": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
    })
    c = _cols(df)
    assert c["const"]["bins"] == {"edges": [5.0, 5.0], "counts": [10]}
    assert c["const"]["std"] == 0.0
    assert c["allnull"]["type"] == "numeric" and c["allnull"]["count"] == 0
    assert "bins" not in c["allnull"]
    w = c["withinf"]
    assert w["count"] == 9 and w["nulls"] == 1 and w["nonFinite"] == 2
    assert sum(w["bins"]["counts"]) == 7 and w["max"] == 7.0
    assert c["flag"]["type"] == "boolean" and c["flag"]["top"][0]["count"] == 5
    assert c["objflag"]["type"] == "boolean" and c["objflag"]["nulls"] == 2
    assert c["when"]["type"] == "datetime" and c["when"]["count"] == 10
    assert c["cat"]["type"] == "categorical" and c["cat"]["top"][0] in (
        {"value": "a", "count": 4}, {"value": "b", "count": 4})
    # 10 distinct strings: <= 50 distinct -> categorical
    assert c["text"]["type"] == "categorical"
    assert c["nullable"]["type"] == "numeric" and c["nullable"]["nulls"] == 1
    # integer dtypes (numpy's and pandas' nullable one) are marked; floats and booleans are not
    assert c["const"]["integer"] is True and c["nullable"]["integer"] is True
    assert "integer" not in c["withinf"] and "integer" not in c["allnull"] and "integer" not in c["flag"]
    json.dumps(_patches._profile_frame(df), allow_nan=False)


def test_profile_text_vs_categorical_and_top_limit():
    many = ["id-%05d" % i for i in range(200)]
    few = ["v%d" % (i % 30) for i in range(200)]
    c = _cols(pd.DataFrame({"many": many, "few": few}))
    assert c["many"]["type"] == "text" and len(c["many"]["top"]) == 20
    assert c["few"]["type"] == "categorical" and len(c["few"]["top"]) == 20
    assert c["few"]["top"][0]["count"] == 7


def test_profile_samples_big_frames(monkeypatch):
    monkeypatch.setattr(_patches, "_SAMPLE_ABOVE", 1000)
    monkeypatch.setattr(_patches, "_SAMPLE_ROWS", 500)
    p = _patches._profile_frame(pd.DataFrame({"x": np.arange(5000.0)}))
    assert p["rows"] == 5000 and p["sampled"] is True and p["sampleRows"] == 500
    col = p["columns"][0]
    assert col["count"] == 500 and sum(col["bins"]["counts"]) == 500
    assert col["min"] == 0.0 and col["max"] == 4999.0
    again = _patches._profile_frame(pd.DataFrame({"x": np.arange(5000.0)}))
    assert again == p  # deterministic


def test_profile_duplicate_column_names():
    df = pd.DataFrame([[1, "a"], [2, "b"]], columns=["x", "x"])
    cols = _patches._profile_frame(df)["columns"]
    assert [c["type"] for c in cols] == ["numeric", "categorical"]


# ---- audit-hook decisions ----------------------------------------------------------
def test_skip_rules(monkeypatch):
    _capture._build_skips()
    home = os.path.expanduser("~")
    skip = _capture._skip_path
    for p in ("/usr/lib/python3/dist-packages/x.py", "/etc/hosts", "/proc/self/stat",
              "/dev/null", "/tmp/ipykernel_123/456.py",
              os.path.join(home, ".ipython", "profile_default", "history.sqlite"),
              os.path.join(home, ".local", "share", "jupyter", "runtime", "k.json"),
              "/home/u/venv/lib/python3.11/site-packages/a.py", "/work/x/mod.pyc",
              os.path.join(_capture._ROOT_DIR, "nb2prod", "_capture.py")):
        assert skip(p), p
    for p in ("/work/project/data.csv", "/tmp/pytest/data.csv",
              os.path.join(home, "project", "train.csv")):
        assert not skip(p), p


def test_file_kinds():
    _capture._build_skips()
    k = _capture._file_kind
    assert k("/tmp/ipykernel_42/1234.py") == _capture._K_CELL
    assert k("<ipython-input-3-abc>") == _capture._K_CELL
    assert k("/usr/lib/python3/dist-packages/sklearn/base.py") == _capture._K_LIB
    assert k(os.__file__) == _capture._K_LIB
    assert k("<frozen importlib._bootstrap>") == _capture._K_LIB
    assert k("/work/project/train.py") == _capture._K_USER
    assert k("<stdin>") == _capture._K_WEAK


# ---- runner helpers ----------------------------------------------------------------
def test_runner_parameter_parsing_and_injection():
    import ast
    import nbformat
    import nb2prod_runner as r
    src = ("%matplotlib inline\nalpha = 0.5\nn: int = 3\nname = 'x'\nitems = [1, (2, 3)]\n"
           "derived = alpha * 2\nimport os\nflag = None\n")
    assert r.parse_parameters(src) == {"alpha": 0.5, "n": 3, "name": "x",
                                       "items": [1, (2, 3)], "flag": None}
    assert r.parse_parameters("this is not python (") == {}
    v = {"a": float("nan"), "b": [1, float("inf")], "c": {"k": None, "t": True}, "d": "s'q"}
    ns = {}
    exec("x = " + r.py_literal(v), ns)
    assert ns["x"]["b"] == [1, float("inf")] and ns["x"]["c"] == {"k": None, "t": True}
    assert ns["x"]["a"] != ns["x"]["a"] and ns["x"]["d"] == "s'q"

    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("a = 1")
    p.metadata["tags"] = ["parameters"]
    old = nbformat.v4.new_code_cell("# Parameters\na = 5\n")
    old.metadata["tags"] = ["injected-parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("x"), p, old, nbformat.v4.new_code_cell("print(a)")]
    at, pidx = r.inject_parameters(nb, {"a": 9}, nbformat)
    # after the earlier injected cell, which is kept: user indices stay valid
    assert (at, pidx) == (3, 1) and len(nb.cells) == 5
    assert nb.cells[3].source == "# Parameters\na = 9\n"
    assert [r.source_index(i, at) for i in range(5)] == [0, 1, 2, None, 3]
    ast.parse(nb.cells[3].source)
