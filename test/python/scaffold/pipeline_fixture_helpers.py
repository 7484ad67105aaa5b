"""Helpers of the pipeline tests (test_pipeline_*.py).

The project under test is the churn project of fixture.py (``build_churn_project(dest)``: the
example notebook tracked and scaffolded by the real CLI, the project in dest/production with
workdir ".." where the notebook and its data are). These helpers run its modules
in child processes, or import them in this process one project at a time.
"""
import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixture import build_churn_project

REPO = Path(__file__).resolve().parents[3]
CLI = REPO / "dist" / "cli.js"
PYTHON = sys.executable  # the interpreter running these tests (see fixture.py)
PROJECT_PACKAGES = ("pipeline", "common", "service")


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_json(path, data):
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def edit_json(path, **changes):
    """Sets top-level keys of a JSON file (e.g. the generated pipeline/config.json)."""
    data = read_json(path)
    data.update(changes)
    write_json(path, data)
    return data


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def clean_env(**extra):
    """A child's environment: no NB2PROD_* or PYTHONPATH leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NB2PROD_") and k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_module(project, module, *args, env=None, timeout=300):
    """``python -m <module> args`` in the project root; returns the CompletedProcess."""
    return subprocess.run([PYTHON, "-m", module] + [str(a) for a in args], cwd=str(project),
                          env=env if env is not None else clean_env(), capture_output=True,
                          text=True, timeout=timeout)


def forget_project_modules():
    """Drops the generated project's packages from sys.modules (every test has its own project)."""
    for name in list(sys.modules):
        if name.split(".")[0] in PROJECT_PACKAGES:
            del sys.modules[name]


@pytest.fixture
def churn(tmp_path):
    """A fresh churn project (its root); the data is in root.parent / "data"."""
    return build_churn_project(tmp_path / "churn")


@pytest.fixture
def use_project(monkeypatch):
    """use_project(root) makes that project's packages importable here; undone after the test."""
    used = []

    def use(root):
        forget_project_modules()
        monkeypatch.syspath_prepend(str(root))
        importlib.invalidate_caches()
        used.append(root)
        return root

    cwd = os.getcwd()
    yield use
    os.chdir(cwd)
    forget_project_modules()
