"""The static service templates in a generated-like churn project: the project's own tests
pass, and the service works over real HTTP under uvicorn.

Run with:  cd /work/main && /usr/bin/python3 -m pytest test/python/scaffold -q -p no:cacheprovider
"""
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from fixture import build_churn_project

PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def churn_project(tmp_path_factory):
    """The churn project (dest/production, the notebook's data in dest/data), built once for
    this module. The tests below must not modify it."""
    return build_churn_project(tmp_path_factory.mktemp("churn"))


def clean_env(**extra):
    """The environment of a child process: no nb2prod overrides or Python paths of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NB2PROD_", "PYTEST_")) and k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def test_the_generated_project_passes_its_own_tests(churn_project):
    proc = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=str(churn_project), env=clean_env(), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, "project tests failed:\n%s\n%s" % (proc.stdout[-8000:], proc.stderr[-4000:])
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]
    assert not (churn_project / "var").exists(), "the project's tests wrote into its var/"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, project: Path, state: Path, log: Path, **env):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.state = state
        self.log = log
        self._log_handle = open(log, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=str(project), env=clean_env(NB2PROD_STATE_DIR=state, **env),
            stdout=self._log_handle, stderr=subprocess.STDOUT,
        )

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the service exited with %s:\n%s" % (self.proc.returncode, self.output()))
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("the service did not answer /health within %ss:\n%s" % (timeout, self.output()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log_handle.close()


@pytest.fixture
def server(churn_project, tmp_path):
    server = Server(churn_project, tmp_path / "state", tmp_path / "uvicorn.log")
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def test_the_service_over_real_http(server, churn_project):
    golden = json.loads((churn_project / "tests" / "golden" / "sample.json").read_text())
    config = json.loads((churn_project / "service" / "config.json").read_text())
    predicted = []  # request ids of answered predictions, one per record
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        assert http.get("/ready").json()["model"]["sha256"] == config["model"]["sha256"]

        # a valid record gets the golden prediction
        for row in golden["rows"][:5]:
            response = http.post("/predict", json=row["input"])
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["prediction"] == row["prediction"]
            assert body["probability"] == pytest.approx(row["probability"], abs=1e-9)
            predicted.append(body["request_id"])
        batch = http.post("/predict/batch", json={"records": [row["input"] for row in golden["rows"]]}).json()
        assert [item["prediction"] for item in batch["predictions"]] == [row["prediction"] for row in golden["rows"]]
        predicted += [batch["request_id"]] * len(golden["rows"])

        # an invalid record gets a 422 naming the field
        invalid = dict(golden["rows"][0]["input"], tenure_months=-10)
        response = http.post("/predict", json=invalid)
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["tenure_months"]

        # the kill-switch file flips to the fallback and back, without a restart
        switch = server.state / "KILL_SWITCH"
        switch.parent.mkdir(parents=True, exist_ok=True)
        switch.touch()
        body = http.post("/predict", json=golden["rows"][0]["input"]).json()
        assert body["fallback"] is True and body["prediction"] == config["fallback"]["prediction"]
        predicted.append(body["request_id"])
        metrics_on = http.get("/metrics").text
        switch.unlink()
        body = http.post("/predict", json=golden["rows"][0]["input"]).json()
        assert body["fallback"] is False and body["prediction"] == golden["rows"][0]["prediction"]
        predicted.append(body["request_id"])

        # a 2 MB body is refused before it is parsed
        response = http.post("/predict", content=b" " * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert "max_body_bytes" in response.json()["detail"]

        # /metrics is Prometheus text
        response = http.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = response.text
    assert "nb2prod_kill_switch_active 1" in metrics_on
    assert "nb2prod_kill_switch_active 0" in text
    assert 'nb2prod_requests_total{endpoint="/predict",status="413"} 1' in text
    assert 'nb2prod_requests_total{endpoint="/predict",status="422"} 1' in text
    assert "nb2prod_predictions_total %d" % len(predicted) in text
    assert '# TYPE nb2prod_request_latency_seconds histogram' in text

    # every prediction is in the audit log, one line per record, and nothing else is
    audit = read_jsonl(server.state / "audit" / "predictions.jsonl")
    assert [entry["request_id"] for entry in audit] == predicted
    assert all(entry["model"]["sha256"] == config["model"]["sha256"] for entry in audit)
    assert [entry["fallback"] for entry in audit].count(True) == 1
    assert not (churn_project / "var").exists()


def test_uvicorn_refuses_to_start_on_a_tampered_model(churn_project, tmp_path):
    tampered = tmp_path / "churn_model.joblib"
    data = bytearray((churn_project / "model" / "churn_model.joblib").read_bytes())
    data[-10] ^= 0x01
    tampered.write_bytes(bytes(data))
    server = Server(churn_project, tmp_path / "state", tmp_path / "uvicorn.log", NB2PROD_MODEL_PATH=tampered)
    try:
        server.proc.wait(timeout=60)
    finally:
        server.stop()
    assert server.proc.returncode != 0
    output = server.output()
    assert "ModelIntegrityError" in output and str(tampered) in output
    assert "Restore the original file" in output
