"""What a tracked run keeps of what it fitted (nb2prod/_fitted.py): the fitted estimators its
globals hold at the end, serialised into the store's objects/ by sha256, within the limits, in
a notebook run (after its last cell, through the runner) and in a script (at exit)."""
import hashlib
import json
import subprocess
import sys

import joblib
import nbformat
import pandas as pd

from conftest import RUNNER, base_env, of_type, read_events

DATA = "a,b,label,text\n" + "".join(
    "%d,%s,%d,%s\n" % (i, i * 0.5 if i % 7 else "", i % 2, ["red apple", "green pear", "blue sky"][i % 3])
    for i in range(60))

SCRIPT = """\
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

df = pd.read_csv("data.csv")
imputer = SimpleImputer(strategy="median")
X = imputer.fit_transform(df[["a", "b"]])
X = StandardScaler().fit_transform(X)
model = LogisticRegression().fit(X, df["label"])
same_model = model
unfitted = LogisticRegression()
pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(df[["a"]], df["label"])
"""


def objects_of(tmp_path):
    return tmp_path / "store" / "objects"


def fitted_env(tmp_path, limits=None):
    env = {"NB2PROD_OBJECTS": str(objects_of(tmp_path))}
    if limits:
        env["NB2PROD_FITTED_LIMITS"] = "%d,%d" % limits
    return env


def check_object(tmp_path, event):
    """The object file is the event's sha256 and bytes, and loads as the event's class."""
    path = objects_of(tmp_path) / event["sha256"]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == event["sha256"] and len(data) == event["bytes"]
    loaded = joblib.load(path)
    assert event["class"].endswith("." + type(loaded).__name__)
    return loaded


def test_a_script_keeps_its_fitted_globals_at_exit(run_script, tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    run = run_script(SCRIPT, env=fitted_env(tmp_path))
    fitted = {e["name"]: e for e in run.of_type("fitted")}
    assert set(fitted) == {"imputer", "model", "same_model", "pipe", None}, fitted
    assert fitted["imputer"]["class"] == "sklearn.impute.SimpleImputer" and fitted["imputer"]["format"] == "joblib"
    assert fitted["model"]["sha256"] == fitted["same_model"]["sha256"], "one object, two names, one file"
    assert fitted["pipe"]["class"] == "sklearn.pipeline.Pipeline"
    # the scaler fitted in one expression, held by no name: kept by where it was fitted
    anonymous = fitted[None]
    assert anonymous["class"] == "sklearn.preprocessing.StandardScaler" and anonymous["location"] == "train.py:11"
    for event in fitted.values():
        check_object(tmp_path, event)
    imputer = check_object(tmp_path, fitted["imputer"])
    medians = pd.read_csv(tmp_path / "data.csv")[["a", "b"]].median()
    assert list(imputer.statistics_) == list(medians), "the object is the run's fitted imputer"
    assert not run.of_type("fitted_skipped") and not run.of_type("capture_error")
    assert not [p for p in objects_of(tmp_path).iterdir() if p.name.startswith(".")], "no temporary file left"
    # the kept objects are not files the run wrote
    assert not [e for e in run.of_type("open") if str(objects_of(tmp_path)) in e["path"]]


def test_limits_skip_objects_and_say_why(run_script, tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    run = run_script(SCRIPT, env=fitted_env(tmp_path, limits=(1200, 10 ** 9)))
    skipped = {e["name"]: e for e in run.of_type("fitted_skipped")}
    kept = {e["name"]: e for e in run.of_type("fitted")}
    assert "pipe" in skipped and "larger than the limit of 1200 bytes per object" in skipped["pipe"]["reason"]
    assert set(kept) | set(skipped) == {"imputer", "model", "same_model", "pipe", None}
    assert all(e["bytes"] <= 1200 for e in kept.values())

    (tmp_path / "events.jsonl").unlink()
    run = run_script(SCRIPT, env=fitted_env(tmp_path, limits=(10 ** 9, 1)))
    assert not run.of_type("fitted")
    assert {e["reason"] for e in run.of_type("fitted_skipped")} == {
        "over the limit of 1 bytes per run ([track] fitted_run_limit_mb)"}


def test_a_script_that_raises_keeps_nothing(run_script, tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    run = run_script(SCRIPT + "raise SystemError('boom')\n", env=fitted_env(tmp_path), check=False)
    assert run.proc.returncode == 1 and "boom" in run.proc.stderr
    assert not run.of_type("fitted") and not run.of_type("fitted_skipped")


def test_without_an_objects_folder_nothing_is_kept(run_script, tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    run = run_script(SCRIPT)
    assert not run.of_type("fitted") and not objects_of(tmp_path).exists()


def test_an_object_that_cannot_be_pickled_is_a_note_and_the_run_goes_on(run_script, tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    code = SCRIPT + "import threading\nmodel.lock_ = threading.Lock()\nprint('done')\n"
    run = run_script(code, env=fitted_env(tmp_path))
    assert run.proc.returncode == 0 and "done" in run.proc.stdout
    skipped = {e["name"]: e["reason"] for e in run.of_type("fitted_skipped")}
    assert skipped["model"].startswith("could not be serialised (TypeError") and skipped["same_model"] == skipped["model"]
    assert "imputer" in {e["name"] for e in run.of_type("fitted")}


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def _run_notebook(tmp_path, cells):
    nb = _notebook(tmp_path / "nb.ipynb", cells)
    events = tmp_path / "events.jsonl"
    output = tmp_path / "out" / "executed.ipynb"
    env = base_env(events, **fitted_env(tmp_path))
    env["NB2PROD_CELLS"] = str(tmp_path / "cells.json")
    proc = subprocess.run([sys.executable, RUNNER, "--notebook", str(nb), "--output", str(output)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=180)
    return proc, read_events(str(events)), nbformat.read(str(output), as_version=4)


def test_a_notebook_keeps_its_fitted_globals_after_the_last_cell(tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    cells = [
        "import pandas as pd\nfrom sklearn.feature_extraction.text import TfidfVectorizer\nfrom sklearn.linear_model import LogisticRegression",
        "df = pd.read_csv('data.csv')\nvectorizer = TfidfVectorizer()\nX = vectorizer.fit_transform(df['text'])",
        "clf = LogisticRegression(C=2.0).fit(X, df['label'])\nclf.score(X, df['label'])",
    ]
    proc, events, executed = _run_notebook(tmp_path, cells)
    assert proc.returncode == 0, proc.stderr
    fitted = {e["name"]: e for e in of_type(events, "fitted")}
    assert set(fitted) == {"vectorizer", "clf"}, fitted
    clf = check_object(tmp_path, fitted["clf"])
    vectorizer = check_object(tmp_path, fitted["vectorizer"])
    assert clf.C == 2.0 and "apple" in vectorizer.vocabulary_
    # the kernel did it: no cell was added to the executed notebook
    assert len(executed.cells) == 3 and [c.execution_count for c in executed.cells] == [1, 2, 3]
    assert not of_type(events, "capture_error")
    assert json.loads(proc.stdout.splitlines()[-1])["status"] == "succeeded"


def test_a_notebook_that_fails_keeps_nothing(tmp_path):
    (tmp_path / "data.csv").write_text(DATA)
    cells = [
        "import pandas as pd\nfrom sklearn.preprocessing import StandardScaler",
        "df = pd.read_csv('data.csv')\nscaler = StandardScaler().fit(df[['a']])",
        "1 / 0",
    ]
    proc, events, _executed = _run_notebook(tmp_path, cells)
    assert proc.returncode == 1
    assert not of_type(events, "fitted") and not of_type(events, "fitted_skipped")
