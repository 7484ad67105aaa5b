"""Rollback within minutes, as users do it: two versions in the registry, v2 promoted and deployed
into the generated service in one command (`registry promote … --deploy`), the service serving
it; then `make rollback` in the project (`registry rollback champion --deploy .`), the service restarted, and over real HTTP it
answers with v1 (the version on /ready, /metrics, every answer and audit line) and v1's
predictions. A deployed file altered afterwards stops the start with a clear message.

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_rollback_deploy.py -q
"""
import json
import shutil
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from fixture import CHURN, CLI, build_churn_project
from generated import Service, clean_env, read_json, run_cli as nb2prod, train_forest
from load import records_from

# a model file's probabilities for records, computed the way the service computes features
PREDICT = textwrap.dedent("""
    import json, sys
    import joblib
    from common.features import build_features
    from common.frames import align_columns, records_to_frame
    model_path, records_path = sys.argv[1:3]
    config = json.load(open("service/config.json"))
    records = json.load(open(records_path))
    model = joblib.load(model_path)
    X = align_columns(build_features(records_to_frame(records, config["frame_columns"])), json.load(open("model/feature_columns.json")))
    print(json.dumps([max(row) for row in model.predict_proba(X).tolist()]))
""")


def probabilities(project, model_path, records, tmp_path):
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps(records))
    proc = subprocess.run([sys.executable, "-c", PREDICT, str(model_path), str(records_file)], cwd=str(project),
                          env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The churn workspace with production/ and two versions: v1 the notebook's model (what the
    project was generated with), v2 a shallower forest; v1 promoted to champion."""
    project = build_churn_project(tmp_path_factory.mktemp("rollback"))
    root = project.parent
    config = read_json(project / "service" / "config.json")
    train_forest(project, root / CHURN.data, config["target"], root / "models" / "v2.joblib", n_estimators=25, max_depth=2, random_state=3)
    v1 = json.loads(nb2prod("registry", "register", "churn", "latest", "--json", cwd=root).stdout)["version"]
    assert v1["file"]["sha256"] == config["model"]["sha256"], "the project was generated with v1"
    nb2prod("registry", "register", "churn", "latest", "--file", "models/v2.joblib", cwd=root)
    nb2prod("registry", "promote", "churn", "1", "--to", "champion", "--reason", "the notebook's model", cwd=root)
    return root


def test_promote_deploys_v2_and_a_rollback_with_deploy_serves_v1_after_a_restart(workspace, tmp_path):
    project = workspace / "production"
    config = read_json(project / "service" / "config.json")
    frame = pd.read_csv(workspace / CHURN.data)
    records = [record for record, _ in records_from(frame, config["input_columns"], config["target"], 12, seed=5)]
    v1_expected = probabilities(project, project / config["model"]["path"], records, tmp_path)
    v2_expected = probabilities(project, workspace / "models" / "v2.joblib", records, tmp_path)
    assert v1_expected != v2_expected, "the two versions answer differently"

    promoted = nb2prod("registry", "promote", "churn", "2", "--to", "champion", "--deploy", "production", "--reason", "shallower", cwd=workspace)
    assert "Deployed churn v2 to production as its champion" in promoted.stdout and "Restart the service" in promoted.stdout
    with Service(project, tmp_path / "v2") as service:
        ready = service.get("/ready").json()
        assert ready["model"]["version"] == 2 and ready["deployed"]["alias"] == "champion"
        answers = [service.predict(record).json() for record in records]
    assert {a["model"]["version"] for a in answers} == {2}
    assert [a["probability"] for a in answers] == pytest.approx(v2_expected, abs=1e-9)

    # the generated Makefile's way: make rollback in the project (nb2prod registry rollback champion --deploy .)
    rolled = subprocess.run([shutil.which("make"), "rollback", "REASON=rehearsal", "NB2PROD=%s %s" % (shutil.which("node"), CLI), "PYTHON=%s" % sys.executable],
                            cwd=str(project), env=clean_env(), capture_output=True, text=True, timeout=300)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "Rolled back churn champion: v2 -> v1." in rolled.stdout
    assert "Deployed churn v1 to production (here) as its champion" in rolled.stdout and "Restart the service" in rolled.stdout
    deployment = read_json(project / "service" / "deployment.json")
    assert deployment["champion"]["version"] == 1 and deployment["champion"]["sha256"] == config["model"]["sha256"]

    # the restart: a new process reads service/deployment.json
    with Service(project, tmp_path / "v1") as service:
        ready = service.get("/ready").json()
        assert ready["model"] == {"name": "churn", "version": 1, "sha256": config["model"]["sha256"]}
        assert ready["deployed"]["alias"] == "champion" and ready["deployed"]["by"]
        answers = [service.predict(record).json() for record in records]
        metrics = service.get("/metrics").text
        entries = service.audit_entries(at_least=len(records))
    assert {a["model"]["version"] for a in answers} == {1}
    assert [a["probability"] for a in answers] == pytest.approx(v1_expected, abs=1e-9)
    assert 'version="1"' in next(line for line in metrics.splitlines() if line.startswith("nb2prod_model_info"))
    assert {e["model"]["version"] for e in entries} == {1}

    # the monitor reads the service's served version from the deployment
    report = json.loads(nb2prod("monitor", "production", "--state", service.state, "--format", "json", cwd=workspace).stdout)
    assert report["service"]["model"]["version"] == 1
    assert report["read"]["unknownModels"] == []

    # the readiness item counts a rollback whose deployment was done
    check = json.loads(nb2prod("check", "--format", "json", cwd=workspace).stdout)
    item = next(i for i in check["items"] if i["id"] == "rollback-tested")
    assert item["status"] == "pass" and "deployed to the service production" in item["summary"]


def test_a_deployed_file_altered_since_stops_the_start(workspace, tmp_path):
    project = workspace / "production"
    nb2prod("registry", "deploy", "production", "--alias", "champion", cwd=workspace)
    deployed = project / read_json(project / "service" / "deployment.json")["champion"]["path"]
    original = deployed.read_bytes()
    try:
        deployed.write_bytes(original + b"\0")
        service = Service(project, tmp_path).start()
        assert service.wait_exit(60) != 0
        assert "Refusing to start" in service.output() and "service/deployment.json deployed churn v" in service.output()
        deployed.unlink()
        service = Service(project, tmp_path).start()
        assert service.wait_exit(60) != 0
        assert "is missing. Deploy it again from the registry" in service.output()
        # NB2PROD_DEPLOYMENT=off serves the model service/config.json names
        with Service(project, tmp_path / "off", NB2PROD_DEPLOYMENT="off") as fallback:
            assert fallback.get("/ready").json()["deployed"] is None
    finally:
        deployed.write_bytes(original)

