"""The generated project's own tests/test_pipeline.py, run inside the churn project of fixture.py
(as `make test` / CI would), plus the Makefile and CI workflow templates.

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
"""
import re
import shutil
import subprocess

import pytest

from pipeline_fixture_helpers import PYTHON, churn, clean_env, edit_json, read_json  # noqa: F401

TEMPLATES = __import__("fixture").TEMPLATES


def project_pytest(project, *args, **env):
    return subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pipeline.py"] + list(args),
                          cwd=str(project), env=clean_env(**env), capture_output=True, text=True, timeout=600)


def outcome(proc):
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", proc.stdout))
    return counts


def test_the_projects_pipeline_tests_pass(churn):
    proc = project_pytest(churn, "-rs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = outcome(proc)
    assert counts.get("failed", 0) == 0 and counts.get("skipped", 0) == 0, proc.stdout
    # one quarantine test per input field, plus the generic ones
    assert counts["passed"] >= 5 + 7, proc.stdout
    assert not (churn / "var").exists(), "the tests keep the project's var/ clean"


def test_they_skip_the_real_data_run_when_the_checkout_has_no_data(churn):
    shutil.rmtree(churn.parent / "data")
    proc = project_pytest(churn, "-rs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcome(proc).get("skipped") == 1
    assert "the training data is not in this checkout" in proc.stdout


def test_they_catch_a_contract_that_lets_bad_values_through(churn):
    schema_path = churn / "contracts" / "training.schema.json"
    schema = read_json(schema_path)
    del schema["properties"]["tenure_months"]["minimum"]
    del schema["properties"]["tenure_months"]["maximum"]
    schema["properties"]["tenure_months"]["type"] = ["number", "string", "null"]
    edit_json(schema_path, properties=schema["properties"])
    proc = project_pytest(churn)
    assert proc.returncode == 1
    assert "test_a_row_broken_in_one_field_is_quarantined_with_that_field_named[tenure_months]" in proc.stdout


def test_the_makefile_has_the_documented_targets_and_help_is_the_default():
    makefile = (TEMPLATES / "Makefile").read_text()
    assert ".DEFAULT_GOAL := help" in makefile and "PYTHON ?= python3" in makefile
    for target in ("help", "install", "test", "serve", "train", "golden", "register", "docker-build", "docker-run"):
        assert re.search(r"^%s: ## " % target, makefile, re.M), target
    assert "\t$(NB2PROD) run --tag pipeline -- $(PYTHON) -m pipeline $(ARGS)" in makefile
    assert "To train without nb2prod: $(PYTHON) -m pipeline" in makefile
    for line in makefile.splitlines():
        assert not line.startswith("    "), "recipes are indented with tabs: %r" % line


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_prints_the_targets_and_would_run_the_tracked_training(churn):
    shown = subprocess.run(["make"], cwd=str(churn), capture_output=True, text=True, env=clean_env())
    assert shown.returncode == 0 and "train" in shown.stdout and "python3 -m pipeline" in shown.stdout
    dry = subprocess.run(["make", "-n", "train", "docker-build", "PYTHON=" + PYTHON, 'ARGS=--param seed=1'],
                         cwd=str(churn), capture_output=True, text=True, env=clean_env())
    assert dry.stdout.splitlines() == ["nb2prod run --tag pipeline -- %s -m pipeline --param seed=1" % PYTHON,
                                       "docker build -t churn ."]


def test_the_ci_workflow_installs_tests_and_builds_the_image():
    workflow = (TEMPLATES / ".github" / "workflows" / "ci.yml").read_text()
    for needle in ("actions/checkout@v4", "actions/setup-python@v5", 'python-version: "3.11"',
                   "pip install -r requirements.txt", "python -m pytest", "docker build"):
        assert needle in workflow, needle
    try:
        import yaml
    except ImportError:
        return
    jobs = yaml.safe_load(workflow)["jobs"]
    assert set(jobs) == {"test", "docker"}
