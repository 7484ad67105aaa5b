"""Two versions in the registry, the second beside the first in the generated service: in shadow
it scores every request and is logged, never returned, and `nb2prod monitor` compares the two on
the same requests (paired); the promotion gate "challenger not worse on live traffic" reads that
comparison; as a canary it answers its share of the requests, by a stable hash of the client's id.

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_shadow_canary.py -q
"""
import json

import pandas as pd
import pytest

from fixture import CHURN, build_churn_project
from generated import Service, read_json, run_cli as nb2prod, train_forest
from load import post_labels, records_from, send


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The churn workspace (notebook, store, data) with production/, and two registered versions:
    v1 the notebook's model (champion, what the service serves), v2 a shallower forest (challenger)."""
    project = build_churn_project(tmp_path_factory.mktemp("shadow"))
    root = project.parent
    config = read_json(project / "service" / "config.json")
    train_forest(project, root / CHURN.data, config["target"], root / "models" / "challenger.joblib", n_estimators=30, max_depth=3, random_state=0)
    v1 = json.loads(nb2prod("registry", "register", "churn", "latest", "--json", cwd=root).stdout)["version"]
    assert v1["file"]["sha256"] == config["model"]["sha256"], "the service serves v1"
    nb2prod("registry", "register", "churn", "latest", "--file", "models/challenger.joblib", cwd=root)
    nb2prod("registry", "promote", "churn", "1", "--to", "champion", "--reason", "the notebook's model", cwd=root)
    nb2prod("registry", "promote", "churn", "2", "--to", "challenger", "--reason", "a simpler forest to try", cwd=root)
    return root


def test_shadow_is_logged_never_returned_and_the_monitor_compares_the_pair(workspace, tmp_path):
    project = workspace / "production"
    deployed = nb2prod("registry", "deploy", "production", "--mode", "shadow", cwd=workspace)
    assert "Deployed churn v2 to production beside the champion in shadow" in deployed.stdout
    deployment = read_json(project / "service" / "deployment.json")["challenger"]
    assert (deployment["version"], deployment["mode"]) == (2, "shadow")
    assert (project / deployment["path"]).is_file()

    config = read_json(project / "service" / "config.json")
    frame = pd.read_csv(workspace / CHURN.data)
    with Service(project, tmp_path) as service:
        ready = service.get("/ready").json()
        assert ready["challenger"]["model"]["version"] == 2 and ready["challenger"]["mode"] == "shadow"
        sent = send(service, records_from(frame, config["input_columns"], config["target"], 300, seed=21))
        assert {answer["model"]["sha256"] for _, _, answer, _ in sent} == {config["model"]["sha256"]}, "the champion answers"
        post_labels(service, [{"request_id": r, "label": label} for r, _, _, label in sent])
        entries = service.audit_entries(at_least=600)
    assert sum(e["role"] == "challenger" and e.get("shadow") is True for e in entries) == 300

    report = json.loads(nb2prod("monitor", "production", "--state", service.state, "--format", "json", cwd=workspace).stdout)
    comparison = report["comparison"]
    assert comparison["pairs"] == 300 and comparison["labelledPairs"] == 300
    assert comparison["challenger"].startswith("v2") and config["model"]["sha256"][:12] in comparison["champion"]
    assert comparison["verdict"] in ("better", "not worse", "worse", "inconclusive")
    assert 0 <= comparison["agreement"] <= 1
    assert sum(w["volume"] for w in report["windows"]) == 300, "shadow answers are not served traffic"
    text = nb2prod("monitor", "production", "--state", service.state, cwd=workspace).stdout
    assert "vs challenger v2" in text and "300 requests scored by both" in text

    # the promotion gate reads the same comparison
    def gate(min_pairs, margin):
        (workspace / "nb2prod.toml").write_text(
            '[registry.gates]\naliases = ["champion"]\nlive_traffic = { service = "production", state = "%s", min_pairs = %d, margin = %s }\n'
            % (service.state, min_pairs, margin))
        return nb2prod("registry", "promote", "churn", "2", "--to", "champion", "--json", cwd=workspace, check=False)

    refused = gate(1000, 1)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    check = next(c for c in json.loads(refused.stdout)["checks"] if c["name"] == "live traffic")
    assert check["status"] == "fail" and "300 labelled requests" in check["detail"] and "min_pairs 1000" in check["detail"]
    promoted = gate(100, 1)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    check = next(c for c in json.loads(promoted.stdout)["checks"] if c["name"] == "live traffic")
    assert check["status"] == "pass" and "on 300 labelled requests both scored" in check["detail"]
    # back to v1 for the next test, recorded as a rollback
    (workspace / "nb2prod.toml").unlink()
    nb2prod("registry", "rollback", "champion", "--reason", "gate test done", cwd=workspace)


def test_a_canary_answers_its_share_by_a_stable_hash_of_the_client_id(workspace, tmp_path):
    project = workspace / "production"
    nb2prod("registry", "deploy", "production", "--mode", "canary", "--percent", "50", cwd=workspace)
    config = read_json(project / "service" / "config.json")
    record = read_json(project / "tests" / "golden" / "sample.json")["rows"][0]["input"]
    with Service(project, tmp_path) as service:
        answered = {}
        for n in range(60):
            versions = {service.predict(record, headers={"X-Request-ID": "customer-%d" % n}).json()["model"]["version"] for _ in range(2)}
            assert len(versions) == 1
            answered[n] = versions.pop()
        entries = service.audit_entries()
    share = sum(v == 2 for v in answered.values()) / len(answered)
    assert 0.25 < share < 0.75, share
    assert {e["role"] for e in entries} == {"champion", "challenger"}
    assert all(e["model"]["version"] == 2 for e in entries if e["role"] == "challenger")
    assert all(e["model"]["sha256"] == config["model"]["sha256"] for e in entries if e["role"] == "champion")
    cleared = nb2prod("registry", "deploy", "production", "--clear", cwd=workspace)
    assert "Removed the challenger" in cleared.stdout
    assert read_json(project / "service" / "deployment.json")["challenger"] is None
