"""pipeline/register.py (static template) against the real nb2prod CLI (dist/cli.js): a tracked
pipeline run (`nb2prod run --tag pipeline -- python -m pipeline`), then registration and the
promotion gate of nb2prod.toml.

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
(needs node and a built dist/cli.js: npm run build)
"""
import json
import shutil
import subprocess

import pytest

from pipeline_fixture_helpers import CLI, PYTHON, churn, clean_env, read_json, run_module, write_json  # noqa: F401

NODE = shutil.which("node")
needs_cli = pytest.mark.skipif(not (NODE and CLI.exists()), reason="needs node and dist/cli.js (npm run build)")
CLI_COMMAND = "node %s" % CLI


def nb2prod(cwd, *args, check=True):
    proc = subprocess.run([NODE, str(CLI)] + list(args), cwd=str(cwd), env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("nb2prod %s failed (%d):\n%s\n%s" % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


def register(project, *args, **env):
    return run_module(project, "pipeline.register", *args, env=clean_env(**env))


@needs_cli
def test_a_tracked_run_is_registered_promoted_and_then_gated(churn):
    workspace = churn.parent  # the notebook's folder holds the store, as where the notebook was tracked
    nb2prod(workspace, "run", "--name", "workspace", "--", PYTHON, "-c", "pass")
    assert (workspace / ".nb2prod").is_dir()

    tracked = nb2prod(churn, "run", "--tag", "pipeline", "--json", "--", PYTHON, "-m", "pipeline")
    envelope = json.loads(tracked.stdout)
    assert not (churn / ".nb2prod").exists(), "the run went to the workspace's store"
    summary = read_json(churn / "var" / "reports" / "pipeline-run.json")
    assert summary["run_id"] == envelope["id"] and summary["store"] == str(workspace / ".nb2prod")
    # the run carries the pipeline's held-out metrics and the parameters used (the notebook's own
    # nb2prod.log_metrics calls are tracking code, left out of the pipeline)
    assert {"holdout_accuracy", "holdout_f1", "holdout_roc_auc"} <= set(envelope["metrics"])
    assert "roc_auc" not in envelope["metrics"]
    assert envelope["params"]["n_estimators"] == 200
    assert "pipeline" in envelope["tags"]

    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 0, proc.stderr
    assert "Registered churn v1 from nb2prod run %s" % envelope["id"] in proc.stdout
    assert "Promoted: churn staging is v1." in proc.stdout
    listed = json.loads(nb2prod(workspace, "registry", "list", "churn", "--json").stdout)
    version = listed["models"][0]["versions"][0]
    assert version["run"] == envelope["id"] and version["aliases"] == ["staging"]
    assert version["file"]["sha256"] == summary["model_output"]["sha256"]
    report = read_json(churn / "var" / "reports" / "registration.json")
    assert report["version"] == 1 and report["promoted"] is True and report["alias"] == "staging"

    # registering again without a new run reuses the version instead of adding one per call
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 0, proc.stderr
    assert "Already registered as churn v1 from nb2prod run %s" % envelope["id"] in proc.stdout
    assert len(json.loads(nb2prod(workspace, "registry", "list", "churn", "--json").stdout)["models"][0]["versions"]) == 1

    # a retrained model facing a gate it cannot pass: refused with the failed check, exit 1
    (workspace / "nb2prod.toml").write_text(
        '[registry.gates]\nmetric = "holdout_roc_auc"\nminimum = 0.99\naliases = ["staging"]\n')
    nb2prod(churn, "run", "--tag", "pipeline", "--", PYTHON, "-m", "pipeline", "--param", "n_estimators=20")
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 1
    assert "Registered churn v2" in proc.stdout
    assert "FAIL  minimum holdout_roc_auc" in proc.stdout
    assert "Refused: churn v2 was not promoted to staging; failed check: minimum holdout_roc_auc" in proc.stdout
    assert '--override "why"' in proc.stdout
    report = read_json(churn / "var" / "reports" / "registration.json")
    assert report["promoted"] is False and report["failed"] == ["minimum holdout_roc_auc"]
    model = json.loads(nb2prod(workspace, "registry", "list", "churn", "--json").stdout)["models"][0]
    assert [v["version"] for v in model["versions"]] == [1, 2]
    assert model["aliases"]["staging"]["version"] == 1, "the refused version did not move the alias"


def test_nothing_to_register_says_what_to_run(churn):
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 2
    assert "no pipeline run to register" in proc.stderr
    assert "nb2prod run --tag pipeline -- python -m pipeline" in proc.stderr
    assert "python -m pipeline.register" in proc.stderr


def test_an_untracked_run_cannot_be_registered(churn):
    assert run_module(churn, "pipeline").returncode == 0
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 2
    assert "was not tracked by nb2prod (it has no run id)" in proc.stderr
    assert "nb2prod run --tag pipeline -- python -m pipeline" in proc.stderr


def test_a_failed_run_is_not_registered(churn):
    path = churn / "var" / "reports" / "pipeline-run.json"
    path.parent.mkdir(parents=True)
    write_json(path, {"status": "failed", "failed_step": "train", "error": "ValueError: boom",
                      "run_id": "01JX", "started_at": "2025-01-01T00:00:00Z"})
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 2 and "failed at step 'train': ValueError: boom" in proc.stderr


def tracked_looking_summary(churn, tmp_path):
    path = churn / "var" / "reports" / "pipeline-run.json"
    path.parent.mkdir(parents=True)
    write_json(path, {"status": "succeeded", "run_id": "01JNOSUCHRUN", "started_at": "2025-01-01T00:00:00Z",
                      "store": None, "started_in": str(tmp_path), "workdir": str(churn.parent),
                      "model_output": None})


def test_without_the_nb2prod_cli_it_says_how_to_point_to_it(churn, tmp_path):
    tracked_looking_summary(churn, tmp_path)
    proc = register(churn, PATH="/nonexistent")
    assert proc.returncode == 2
    assert "the nb2prod command was not found" in proc.stderr and "NB2PROD_CLI" in proc.stderr


@needs_cli
def test_errors_of_the_cli_are_passed_on_with_its_exit_code(churn, tmp_path):
    tracked_looking_summary(churn, tmp_path)  # a run id the store does not have
    nb2prod(tmp_path, "run", "--", PYTHON, "-c", "pass")
    proc = register(churn, NB2PROD_CLI=CLI_COMMAND)
    assert proc.returncode == 2
    assert "registry register churn 01JNOSUCHRUN" in proc.stderr and "failed (exit 2)" in proc.stderr
    assert "01JNOSUCHRUN" in proc.stderr.split("failed (exit 2):", 1)[1], "the CLI's own message follows"
