"""The loop back from production, as a team runs it: the generated churn service under uvicorn
takes a stream of real rows, then a drifting stream (inputs move, and the world changes so that
labels disagree with the model more often); labels arrive later through POST /feedback (some
never, one for an unknown request, one twice). `nb2prod monitor --check` says nothing on the
stable stream and, on the drifting one, opens the PSI alerts and the accuracy drop, exits 1 and
runs the --on-alert command; a person acknowledges an alert and the history keeps who and why.

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_monitor_loop.py -q
"""
import datetime
import json
import time

import pandas as pd
import pytest

from fixture import CHURN, build_churn_project
from generated import Service, run_cli, read_json
from load import concept_drift_labels, drift, post_labels, records_from, send



def nb2prod(*args, cwd):
    return run_cli(*args, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return build_churn_project(tmp_path_factory.mktemp("loop"))


def test_a_drifting_stream_with_late_labels_opens_the_psi_and_accuracy_alerts(project, tmp_path):
    config = read_json(project / "service" / "config.json")
    profile = read_json(project / "contracts" / "profile.json")
    frame = pd.read_csv(project.parent / CHURN.data)
    columns, target = config["input_columns"], config["target"]
    marker = tmp_path / "on-alert.json"

    with Service(project, tmp_path) as service:
        stable = send(service, records_from(frame, columns, target, 300, seed=1))
        # two thirds of the labels arrive, a day later
        post_labels(service, [{"request_id": r, "label": label} for r, _, _, label in stable[:200]], known_after_hours=24)
        service.audit_entries(at_least=300)
        time.sleep(0.3)
        quiet = nb2prod("monitor", project, "--state", service.state, "--check", "--format", "json", cwd=project.parent)
        assert quiet.returncode == 0, quiet.stdout[-3000:] + quiet.stderr
        report = json.loads(quiet.stdout)
        assert report["evaluation"]["breaches"] == [], report["evaluation"]
        window = report["windows"][-1]
        assert window["volume"] == 300 and window["labels"]["count"] == 200
        assert abs(window["labels"]["coverage"] - 200 / 300) < 1e-9
        assert window["estimated"]["accuracy"] is not None
        assert all(f["severity"] == "stable" for f in window["features"]), window["features"]

        time.sleep(1.1)
        mark = datetime.datetime.now(datetime.timezone.utc).isoformat()
        time.sleep(0.1)
        drifting = drift(records_from(frame, columns, target, 300, seed=3), profile, seed=4,
                         numeric="tenure_months", category=("contract", "month-to-month"))
        moved = send(service, drifting)
        labels = concept_drift_labels(moved, flip=0.5, seed=5, classes=sorted(frame[target].unique().tolist()))
        post_labels(service, labels[:250], known_after_hours=24 * 30)  # a month later; 50 never arrive
        post_labels(service, [labels[0]])  # sent twice: the last one wins
        post_labels(service, [{"request_id": "no-such-request", "label": labels[1]["label"]}])
        service.audit_entries(at_least=600)
        time.sleep(0.3)

        on_alert = "python3 -c 'import json, os; open(\"%s\", \"w\").write(os.environ[\"NB2PROD_ALERTS\"])'" % marker
        alarmed = nb2prod("monitor", project, "--state", service.state, "--since", mark, "--check", "--format", "json",
                          "--on-alert", on_alert, cwd=project.parent)
    assert alarmed.returncode == 1, alarmed.stdout[-3000:] + alarmed.stderr
    report = json.loads(alarmed.stdout)
    rules = {(b["rule"], b["subject"]) for b in report["evaluation"]["breaches"]}
    assert ("feature_psi", "tenure_months") in rules and ("feature_psi", "contract") in rules, rules
    assert ("accuracy_drop", "accuracy") in rules, report["evaluation"]
    window = report["windows"][-1]
    assert window["volume"] == 300 and window["labels"]["count"] == 250
    assert window["labels"]["medianDelayHours"] > 24 * 29
    assert window["performance"]["accuracy"] < config["run_metrics"]["accuracy"] - 0.03
    assert report["labels"]["duplicates"] == 1
    assert report["labels"]["unknown"] >= 1
    fired = json.loads(marker.read_text())
    assert {(a["rule"], a["subject"]) for a in fired} == rules

    text = nb2prod("monitor", project, "--state", service.state, "--since", mark, cwd=project.parent)
    assert text.returncode == 0, "without --check the report only reports"
    assert "ALERTS" in text.stdout and "tenure_months" in text.stdout and "accuracy" in text.stdout

    listed = nb2prod("monitor", "alerts", project, "--state", service.state, "--json", cwd=project.parent)
    alerts = json.loads(listed.stdout)
    assert {(a["rule"], a["subject"]) for a in alerts} == rules and all(a["status"] == "open" for a in alerts)
    psi_alert = next(a for a in alerts if a["subject"] == "tenure_months")
    acked = nb2prod("monitor", "ack", project, psi_alert["id"], "--state", service.state, "--by", "dana@example.com",
                    "--reason", "new customer segment from the spring campaign", cwd=project.parent)
    assert acked.returncode == 0, acked.stderr
    again = json.loads(nb2prod("monitor", "alerts", project, "--state", service.state, "--json", cwd=project.parent).stdout)
    acknowledged = next(a for a in again if a["id"] == psi_alert["id"])
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged"][0]["by"] == "dana@example.com"
    history = (service.state / "monitor" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in history].count("open") == len(rules)
