"""Capture in a tracked script (python train.py with sitecustomize on PYTHONPATH)."""
import importlib.metadata
import json
import os

from conftest import of_type


TRAIN = """\
import numpy as np
import pandas as pd
import joblib
import nb2prod
from sklearn.ensemble import RandomForestClassifier

np.random.seed(42)
df = pd.read_csv("data.csv")
X, y = df[["a", "b"]].fillna(0), df["y"]
model = RandomForestClassifier(n_estimators=5, random_state=0)
model.fit(X, y)
joblib.dump(model, "model.joblib")
nb2prod.log_metric("accuracy", model.score(X, y))
nb2prod.log_metrics({"loss": 0.25, "nan_metric": float("nan")}, step=2)
nb2prod.log_param("note", {"k": (1, 2), "inf": float("inf")})
nb2prod.log_artifact("model.joblib")
"""


def _write_csv(path, n=100):
    lines = ["a,b,c,y"]
    for i in range(n):
        a = "" if i % 10 == 3 else str(i * 0.5)
        lines.append("%s,%d,%s,%d" % (a, i % 4, "xyz"[i % 3], i % 2))
    path.write_text("\n".join(lines) + "\n")


def test_training_script_events(run_script, tmp_path):
    _write_csv(tmp_path / "data.csv")
    r = run_script(TRAIN)
    ev = r.events
    csv = str(tmp_path / "data.csv")
    model = str(tmp_path / "model.joblib")

    opens = of_type(ev, "open")
    assert {"type": "open", "path": csv, "write": False} in [
        {k: e[k] for k in ("type", "path", "write")} for e in opens]
    assert any(e["path"] == model and e["write"] for e in opens)
    # nothing from the interpreter, site-packages or the events file itself
    for e in opens:
        assert "dist-packages" not in e["path"] and "site-packages" not in e["path"]
        assert not e["path"].endswith(".pyc")
        assert e["path"] != str(tmp_path / "events.jsonl")
        assert set(e) == {"type", "path", "write", "pid", "t"}
        assert isinstance(e["pid"], int) and isinstance(e["t"], float)
    # (path, write) reported once per process
    keys = [(e["path"], e["write"]) for e in opens]
    assert len(keys) == len(set(keys))

    seeds = of_type(ev, "seed")
    assert {"library": "numpy", "value": 42, "location": "train.py:7"} in [
        {k: s[k] for k in ("library", "value", "location")} for s in seeds]
    assert {"library": "sklearn", "value": 0, "location": "train.py:11"} in [
        {k: s[k] for k in ("library", "value", "location")} for s in seeds]
    # library-internal RandomState(int) and the forest's trees are not seeds of the user
    assert not [s for s in seeds if s["library"] == "numpy.random.RandomState"]
    assert not of_type(ev, "unseeded")

    est = of_type(ev, "estimator")
    assert len(est) == 1, est  # the trees fitted by the forest are not reported
    assert est[0]["class"] == "sklearn.ensemble.RandomForestClassifier"
    assert est[0]["params"]["n_estimators"] == 5
    assert est[0]["params"]["random_state"] == 0
    assert est[0]["params"]["max_depth"] is None
    assert est[0]["location"] == "train.py:11"
    assert est[0]["nested"] is False

    metrics = {m["name"]: m for m in of_type(ev, "metric")}
    assert metrics["accuracy"]["step"] is None and 0 <= metrics["accuracy"]["value"] <= 1
    assert metrics["loss"] == dict(metrics["loss"], value=0.25, step=2)
    assert metrics["nan_metric"]["value"] == "NaN"
    params = of_type(ev, "param")
    assert params[0]["name"] == "note" and params[0]["source"] == "logged"
    assert params[0]["value"] == {"k": [1, 2], "inf": "Infinity"}
    arts = of_type(ev, "artifact")
    assert arts == [dict(arts[0], path=model, kind="model")]

    prof = of_type(ev, "profile")
    assert len(prof) == 1 and prof[0]["path"] == csv
    p = prof[0]["profile"]
    assert p["rows"] == 100 and "sampled" not in p
    cols = {c["name"]: c for c in p["columns"]}
    a = cols["a"]
    assert a["type"] == "numeric" and a["nulls"] == 10 and a["count"] == 90
    assert len(a["bins"]["edges"]) == 11
    assert all(x < y for x, y in zip(a["bins"]["edges"], a["bins"]["edges"][1:]))
    assert sum(a["bins"]["counts"]) == a["count"]
    assert len(a["bins"]["counts"]) == len(a["bins"]["edges"]) - 1
    assert a["min"] == 0.0 and a["max"] == 49.5
    b = cols["b"]
    assert b["bins"]["edges"][0] == 0.0 and b["bins"]["edges"][-1] == 3.0
    assert all(x < y for x, y in zip(b["bins"]["edges"], b["bins"]["edges"][1:]))
    assert sum(b["bins"]["counts"]) == 100
    c = cols["c"]
    assert c["type"] == "categorical"
    assert c["top"] == [{"value": "x", "count": 34}, {"value": "y", "count": 33},
                        {"value": "z", "count": 33}]

    pkgs = of_type(ev, "packages")
    assert len(pkgs) == 1
    pk = pkgs[0]["packages"]
    for dist in ("pandas", "numpy", "scikit-learn", "joblib"):
        assert pk[dist] == importlib.metadata.version(dist), dist
    assert "nb2prod" not in pk
    assert len(pkgs[0]["installedSha256"]) == 64
    py = of_type(ev, "python")
    assert len(py) == 1 and py[0]["implementation"] == "CPython"
    assert py[0]["version"].count(".") == 2
    assert not of_type(ev, "capture_error")


def test_installed_sha256_matches_importlib(run_script):
    """installedSha256 = sha256 of sorted name==version of every installed distribution."""
    import hashlib
    r = run_script("import json\n")
    got = of_type(r.events, "packages")[0]["installedSha256"]
    seen, lines = set(), set()
    for d in importlib.metadata.distributions():
        name = d.metadata["Name"]
        norm = name.lower().replace("_", "-").replace(".", "-")
        if norm in seen:
            continue
        seen.add(norm)
        lines.add("%s==%s" % (name.lower(), d.version))
    expected = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    assert got == expected


def test_unseeded_numpy_with_location(run_script):
    r = run_script("""\
        import numpy as np

        def draw():
            return np.random.rand(3)

        for _ in range(5):
            draw()
        x = np.random.randn(2)
        np.random.seed(3)
        y = np.random.rand(2)
        """)
    un = r.of_type("unseeded")
    assert [(u["library"], u["call"], u["location"]) for u in un] == [
        ("numpy", "numpy.random.rand", "train.py:4"),
        ("numpy", "numpy.random.randn", "train.py:8"),
    ]
    assert [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")] == [
        ("numpy", 3, "train.py:9")]


def test_default_rng_and_random_state(run_script):
    r = run_script("""\
        import numpy as np
        a = np.random.default_rng()
        b = np.random.default_rng(None)
        c = np.random.default_rng(1)
        d = np.random.RandomState(5)
        e = np.random.default_rng(c)
        assert isinstance(d, np.random.RandomState)
        assert isinstance(np.random.mtrand._rand, np.random.RandomState)
        """)
    un = r.of_type("unseeded")
    assert [(u["call"], u["location"]) for u in un] == [
        ("numpy.random.default_rng", "train.py:2"), ("numpy.random.default_rng", "train.py:3")]
    seeds = [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")]
    assert seeds == [("numpy.random.Generator", 1, "train.py:4"),
                     ("numpy.random.RandomState", 5, "train.py:5")]


def test_random_module(run_script):
    r = run_script("""\
        import random
        random.random()
        random.choice([1, 2, 3])
        random.seed(123)
        random.randint(1, 6)
        """)
    un = r.of_type("unseeded")
    assert [(u["library"], u["call"], u["location"]) for u in un] == [
        ("random", "random.random", "train.py:2"), ("random", "random.choice", "train.py:3")]
    assert [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")] == [
        ("random", 123, "train.py:4")]


def test_train_test_split_and_splitters(run_script):
    r = run_script("""\
        import numpy as np
        from sklearn.model_selection import train_test_split, KFold, ShuffleSplit
        from sklearn.cluster import KMeans
        from sklearn.linear_model import LinearRegression
        X = np.arange(40).reshape(20, 2)
        y = np.arange(20)
        train_test_split(X, y, test_size=0.25)
        train_test_split(X, y, test_size=0.25, random_state=7)
        train_test_split(X, y, shuffle=False)
        list(KFold(3, shuffle=True).split(X))
        list(KFold(3).split(X))
        list(ShuffleSplit(2, random_state=11).split(X))
        KMeans(2, n_init=1).fit(X)
        LinearRegression().fit(X, y)
        """)
    un = [(u["call"], u["location"]) for u in r.of_type("unseeded")]
    assert un == [
        ("sklearn.model_selection.train_test_split(random_state=None)", "train.py:7"),
        ("sklearn.model_selection.KFold.split(random_state=None)", "train.py:10"),
        ("sklearn.cluster.KMeans.fit(random_state=None)", "train.py:13"),
    ]
    seeds = [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")]
    assert ("sklearn", 7, "train.py:8") in seeds
    assert ("sklearn", 11, "train.py:12") in seeds
    est = [e["class"] for e in r.of_type("estimator")]
    assert est == ["sklearn.cluster.KMeans", "sklearn.linear_model.LinearRegression"]


def test_seeded_numpy_silences_sklearn_and_pandas(run_script):
    r = run_script("""\
        import numpy as np, pandas as pd
        from sklearn.model_selection import train_test_split
        df = pd.DataFrame({"a": range(10)})
        df.sample(3)
        df["a"].sample(2)
        df.sample(3, random_state=1)
        np.random.seed(0)
        df.sample(3)
        train_test_split(np.arange(10))
        """)
    un = [(u["library"], u["call"], u["location"]) for u in r.of_type("unseeded")]
    assert un == [("pandas", "pandas.DataFrame.sample(random_state=None)", "train.py:4"),
                  ("pandas", "pandas.Series.sample(random_state=None)", "train.py:5")]


def test_pipeline_reports_outer_and_steps_once(run_script):
    r = run_script("""\
        import numpy as np
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score
        X = np.random.RandomState(0).rand(30, 3); y = np.arange(30) % 2
        pipe = make_pipeline(StandardScaler(), LogisticRegression(random_state=3))
        pipe.fit(X, y)
        cross_val_score(pipe, X, y, cv=3)
        """)
    est = [(e["class"], e["nested"], e["location"]) for e in r.of_type("estimator")]
    # cross_val_score fits 3 clones: identical events are reported once
    assert est == [("sklearn.pipeline.Pipeline", False, "train.py:8"),
                   ("sklearn.preprocessing.StandardScaler", True, "train.py:8"),
                   ("sklearn.linear_model.LogisticRegression", True, "train.py:8"),
                   ("sklearn.pipeline.Pipeline", False, "train.py:9"),
                   ("sklearn.preprocessing.StandardScaler", True, "train.py:9"),
                   ("sklearn.linear_model.LogisticRegression", True, "train.py:9")]
    assert ("sklearn", 3, "train.py:8") in [
        (s["library"], s["value"], s["location"]) for s in r.of_type("seed")]


def test_helper_module_location_and_relative_paths(run_script, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "util.py").write_text("import random\n\ndef roll():\n    return random.random()\n")
    r = run_script("from pkg.util import roll\nroll()\n")
    assert [u["location"] for u in r.of_type("unseeded")] == [os.path.join("pkg", "util.py") + ":4"]


def test_events_unset_writes_nothing_and_api_validates(run_script, tmp_path):
    r = run_script("""\
        import nb2prod, numpy as np, pandas as pd
        np.random.rand(2)
        nb2prod.log_metric("m", 1.5)
        nb2prod.log_metrics({"a": 1}, step=1)
        nb2prod.log_param("p", object())
        nb2prod.log_params({"q": [1, 2]})
        open("x.bin", "wb").write(b"1")
        nb2prod.log_artifact("x.bin", kind="report")
        for bad, exc in [(lambda: nb2prod.log_metric("", 1), ValueError),
                         (lambda: nb2prod.log_metric(3, 1), TypeError),
                         (lambda: nb2prod.log_metric("m", "1"), TypeError),
                         (lambda: nb2prod.log_artifact("x.bin", kind="weights"), ValueError)]:
            try:
                bad()
            except exc:
                pass
            else:
                raise SystemExit("no %s" % exc.__name__)
        import os
        assert "NB2PROD_ROOT_PID" not in os.environ
        print("ok")
        """, tracked=False)
    assert r.proc.stdout.strip() == "ok"
    assert not (tmp_path / "events.jsonl").exists()
    assert r.events == []


def test_a_failing_hook_does_not_break_user_code(run_script):
    r = run_script("""\
        import nb2prod._capture as cap
        import nb2prod._patches as pat
        def boom(*a, **k):
            raise RuntimeError("capture bug")
        pat._profile_frame = boom
        cap._location = boom
        import numpy as np, pandas as pd
        np.random.seed(1)
        np.random.rand(2)
        df = pd.DataFrame({"a": [1, 2]})
        df.to_csv("d.csv", index=False)
        back = pd.read_csv("d.csv")
        assert back["a"].tolist() == [1, 2]
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit(back[["a"]], back["a"])
        print("survived")
        """)
    assert r.proc.stdout.strip() == "survived"
    errs = r.of_type("capture_error")
    wheres = {e["where"] for e in errs}
    assert "pandas.read_csv" in wheres and "numpy.random.seed" in wheres
    assert all("capture bug" in e["message"] for e in errs)
    # the audit hook kept working
    assert any(e["path"].endswith("d.csv") for e in r.of_type("open"))


def test_secret_environment_values_never_appear(run_script, tmp_path):
    secret = "abc123-planted"
    _write_csv(tmp_path / "data.csv")
    r = run_script(TRAIN + "\nimport os\ntok = os.environ['SECRET_TOKEN']\n"
                   "nb2prod.log_param('token_name', 'SECRET_TOKEN')\n",
                   env={"SECRET_TOKEN": secret})
    assert r.events
    raw = (tmp_path / "events.jsonl").read_text()
    assert secret not in raw


def test_values_to_redact_never_reach_the_events_file(run_script, tmp_path):
    # The tracker lists the run's secrets in NB2PROD_REDACT; a script that logs them
    # (as params, in a profiled table, in a path) leaves only *** in the events.
    secret, quoted = "tok-8c1f2e9a", 'q"uo\\te-77aa'
    (tmp_path / "data.csv").write_text("name,key\nalpha,%s\nbeta,%s\n" % (secret, secret))
    r = run_script(
        "import json, os, nb2prod, pandas as pd\n"
        "tok = os.environ['SERVICE_TOKEN']\n"
        "nb2prod.log_param('token', tok)\n"
        "nb2prod.log_param('quoted', %r)\n"
        "nb2prod.log_params({'url': 'https://u:' + tok + '@host', tok: 1})\n"
        "pd.read_csv('data.csv')\n"
        "open('out-' + tok + '.txt', 'w').write('x')\n" % quoted,
        env={"SERVICE_TOKEN": secret, "NB2PROD_REDACT": json.dumps([secret, quoted])})
    raw = (tmp_path / "events.jsonl").read_text()
    assert secret not in raw and json.dumps(quoted)[1:-1] not in raw and quoted not in raw
    params = {e["name"]: e["value"] for e in r.of_type("param")}
    assert params["token"] == "***" and params["quoted"] == "***"
    assert params["url"] == "https://u:***@host" and params["***"] == 1
    profile = r.of_type("profile")[0]["profile"]
    assert {t["value"] for c in profile["columns"] if c["name"] == "key" for t in c["top"]} == {"***"}
    assert any(e["path"].endswith("out-***.txt") for e in r.of_type("open"))


def test_redactor_forms_and_nested_values():
    import nb2prod_redact
    r = nb2prod_redact.Redactor(['s3cr<e>t"\\x', "abc123xyz", "short"])
    assert r.text("a abc123xyz b") == "a *** b"
    assert r.text("<b>s3cr&lt;e&gt;t&quot;\\x</b>") == "<b>***</b>"
    assert r.text(repr('s3cr<e>t"\\x')) == "'***'"
    assert r.text("a short text") == "a short text"
    assert r.json_line(json.dumps({"v": 's3cr<e>t"\\x'})) == '{"v": "***"}'
    nb = {"cells": [{"source": "key = 'abc123xyz'", "outputs": [{"data": {"text/html": ["abc123xyz"]}}]}],
          "metadata": {"abc123xyz": True}}
    assert r.deep(nb) == {"cells": [{"source": "key = '***'", "outputs": [{"data": {"text/html": ["***"]}}]}],
                          "metadata": {"***": True}}
    assert not nb2prod_redact.from_environment({"NB2PROD_REDACT": "not json"})
    assert nb2prod_redact.from_environment({"NB2PROD_REDACT": '["abc123xyz"]'}).text("abc123xyz") == "***"


def test_fake_mlflow_is_captured(run_script, tmp_path):
    fake = tmp_path / "fakes"
    (fake / "mlflow" / "tracking").mkdir(parents=True)
    (fake / "mlflow" / "__init__.py").write_text(
        "from mlflow.tracking.fluent import log_metric, log_metrics, log_param, log_params, "
        "log_artifact\nfrom mlflow.tracking.client import MlflowClient\n")
    (fake / "mlflow" / "tracking" / "__init__.py").write_text("")
    (fake / "mlflow" / "tracking" / "client.py").write_text(
        "CALLS = []\n"
        "class MlflowClient:\n"
        "    def log_metric(self, run_id, key, value, timestamp=None, step=None):\n"
        "        CALLS.append(('metric', key, value, step))\n"
        "    def log_param(self, run_id, key, value):\n"
        "        CALLS.append(('param', key, value))\n"
        "    def log_batch(self, run_id, metrics=(), params=(), tags=()):\n"
        "        CALLS.append(('batch', len(metrics), len(params)))\n"
        "    def log_artifact(self, run_id, local_path, artifact_path=None):\n"
        "        CALLS.append(('artifact', local_path))\n")
    (fake / "mlflow" / "tracking" / "fluent.py").write_text(
        "from mlflow.tracking.client import MlflowClient\n"
        "_c = MlflowClient()\n"
        "def log_metric(key, value, step=None):\n"
        "    _c.log_metric('run', key, value, step=step)\n"
        "def log_metrics(metrics, step=None):\n"
        "    for k, v in metrics.items():\n"
        "        _c.log_metric('run', k, v, step=step)\n"
        "def log_param(key, value):\n"
        "    _c.log_param('run', key, value)\n"
        "def log_params(params):\n"
        "    for k, v in params.items():\n"
        "        _c.log_param('run', k, v)\n"
        "def log_artifact(local_path, artifact_path=None):\n"
        "    _c.log_artifact('run', local_path, artifact_path)\n")
    r = run_script("""\
        import mlflow
        from mlflow.tracking.client import CALLS
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "name": "rf"})
        mlflow.log_metric("acc", 0.9)
        mlflow.log_metric("loss", 0.5, step=4)
        mlflow.log_metrics({"f1": 0.8, "auc": float("-inf")}, step=1)
        open("model.pkl", "wb").write(b"m")
        mlflow.log_artifact("model.pkl")
        client = mlflow.MlflowClient()
        client.log_metric("run", "direct", 2.0, step=9)

        class M:
            key, value, step = "batched", 3.0, 2

        client.log_batch("run", metrics=[M()])
        assert len(CALLS) == 10, CALLS
        """, extra_pythonpath=[str(fake)])
    params = [(p["name"], p["value"], p["source"]) for p in r.of_type("param")]
    assert params == [("lr", 0.1, "logged"), ("depth", 3, "logged"), ("name", "rf", "logged")]
    metrics = [(m["name"], m["value"], m["step"]) for m in r.of_type("metric")]
    assert metrics == [("acc", 0.9, None), ("loss", 0.5, 4), ("f1", 0.8, 1),
                       ("auc", "-Infinity", 1), ("direct", 2.0, 9), ("batched", 3.0, 2)]
    arts = r.of_type("artifact")
    assert [(a["path"], a["kind"]) for a in arts] == [(str(tmp_path / "model.pkl"), "model")]


def test_fake_torch_seed_and_unseeded(run_script, tmp_path):
    fake = tmp_path / "fakes"
    (fake / "torch" / "cuda").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(
        "from torch import cuda, random\n"
        "from torch.random import manual_seed\n"
        "def rand(*a): return [0.5] * (a[0] if a else 1)\n"
        "def randn(*a): return [0.0]\n"
        "def randint(*a): return [1]\n"
        "def randperm(n): return list(range(n))\n")
    (fake / "torch" / "random.py").write_text("def manual_seed(s):\n    return s\n")
    (fake / "torch" / "cuda" / "__init__.py").write_text(
        "def manual_seed(s):\n    return s\ndef manual_seed_all(s):\n    return s\n")
    r = run_script("""\
        import torch
        torch.rand(2)
        torch.randperm(3)
        torch.manual_seed(5)
        torch.cuda.manual_seed_all(5)
        torch.rand(2)
        """, extra_pythonpath=[str(fake)])
    assert [(u["library"], u["call"], u["location"]) for u in r.of_type("unseeded")] == [
        ("torch", "torch.rand", "train.py:2"), ("torch", "torch.randperm", "train.py:3")]
    assert [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")] == [
        ("torch", 5, "train.py:4"), ("torch", 5, "train.py:5")]


def test_subprocess_child_is_captured_but_does_not_emit_packages(run_script, tmp_path):
    (tmp_path / "child.py").write_text("import numpy\nopen('child.txt', 'w').write('c')\n")
    r = run_script("""\
        import subprocess, sys
        subprocess.run([sys.executable, "child.py"], check=True)
        """)
    pids = {e["pid"] for e in r.events}
    assert len(pids) == 2
    child_writes = [e for e in r.of_type("open") if e["path"].endswith("child.txt")]
    assert len(child_writes) == 1 and child_writes[0]["write"]
    pk = r.of_type("packages")
    assert len(pk) == 1 and pk[0]["pid"] != child_writes[0]["pid"]


def test_sitecustomize_chains_to_the_next_one(run_script, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.CHAINED = True\n")
    r = run_script("import builtins\nprint(getattr(builtins, 'CHAINED', False))\n",
                   extra_pythonpath=[str(other)])
    assert r.proc.stdout.strip() == "True"
    r2 = run_script("import builtins\nprint(getattr(builtins, 'CHAINED', False))\n",
                    extra_pythonpath=[str(other)], tracked=False)
    assert r2.proc.stdout.strip() == "True"


def test_fake_tensorflow_and_keras_seeds(run_script, tmp_path):
    fake = tmp_path / "fakes"
    (fake / "tensorflow").mkdir(parents=True)
    (fake / "keras" / "utils").mkdir(parents=True)
    (fake / "tensorflow" / "__init__.py").write_text("from tensorflow import random\n")
    (fake / "tensorflow" / "random.py").write_text("def set_seed(seed):\n    return seed\n")
    (fake / "keras" / "__init__.py").write_text("from keras import utils\n")
    (fake / "keras" / "utils" / "__init__.py").write_text(
        "import tensorflow as tf\n"
        "def set_random_seed(seed):\n"
        "    tf.random.set_seed(seed)\n")
    r = run_script("""\
        import tensorflow as tf
        import keras
        tf.random.set_seed(1)
        keras.utils.set_random_seed(2)
        """, extra_pythonpath=[str(fake)])
    # set_random_seed calls tf.random.set_seed: one seed event, at the user's line
    assert [(s["library"], s["value"], s["location"]) for s in r.of_type("seed")] == [
        ("tensorflow", 1, "train.py:3"), ("tensorflow", 2, "train.py:4")]


def test_unseeded_estimators_follow_the_linters_conditions(run_script):
    # Deterministic as fitted: KMeans from given centres, PCA on small data (full SVD), lbfgs,
    # SVC without probability. Random: PCA on data large enough for randomized SVD, liblinear.
    r = run_script("""\
        import numpy as np
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import SVC
        X = np.random.RandomState(0).rand(40, 3); y = np.arange(40) % 2
        KMeans(n_clusters=3, init=X[:3], n_init=1).fit(X)
        PCA(n_components=2).fit(X)
        PCA(0.99).fit(X)
        LogisticRegression().fit(X, y)
        SVC().fit(X, y)
        big = np.random.RandomState(1).rand(600, 520)
        PCA(n_components=2).fit(big)
        LogisticRegression(solver="liblinear").fit(X, y)
        """)
    un = [(u["call"], u["location"]) for u in r.of_type("unseeded")]
    assert un == [
        ("sklearn.decomposition.PCA.fit(random_state=None)", "train.py:13"),
        ("sklearn.linear_model.LogisticRegression.fit(random_state=None)", "train.py:14"),
    ]
