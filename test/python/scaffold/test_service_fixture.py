"""The generated churn project's service under uvicorn, for what test_generated_projects.py
does not cover: a body over limits.max_body_bytes is refused with 413 before it is parsed, and
a model file that does not match its sha256 stops uvicorn at start.

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_service_fixture.py -q
  (npm run test:python runs it under both interpreters)
"""
import pytest

from fixture import build_churn_project
from generated import Service, prometheus_samples, read_json, read_jsonl


@pytest.fixture(scope="module")
def churn_project(tmp_path_factory):
    """The generated churn project (the example's folder is its parent). Tests must not change it."""
    return build_churn_project(tmp_path_factory.mktemp("churn"))


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(churn_project, tmp_path):
    limit = read_json(churn_project / "service" / "config.json")["limits"]["max_body_bytes"]
    assert limit < 2 * 1024 * 1024
    record = read_json(churn_project / "tests" / "golden" / "sample.json")["rows"][0]["input"]
    with Service(churn_project, tmp_path) as service:
        reply = service.post_oversized("/predict", b" " * (2 * 1024 * 1024))
        assert reply.status == 413, reply.text
        assert "max_body_bytes" in reply.json()["detail"]
        assert service.predict(record).status == 200, "the service goes on serving"
        samples = prometheus_samples(service.get("/metrics").text)
    assert samples['nb2prod_requests_total{endpoint="/predict",status="413"}'] == 1
    assert samples["nb2prod_predictions_total"] == 1
    assert [entry["request_id"] for entry in service.audit_entries()] == [service.predicted[0].request_id]


def test_uvicorn_refuses_to_start_on_a_tampered_model(churn_project, tmp_path):
    model = churn_project / read_json(churn_project / "service" / "config.json")["model"]["path"]
    tampered = tmp_path / model.name
    data = bytearray(model.read_bytes())
    data[-10] ^= 0x01
    tampered.write_bytes(bytes(data))
    service = Service(churn_project, tmp_path, NB2PROD_MODEL_PATH=tampered).start()
    try:
        returncode = service.wait_exit(timeout=60)
    finally:
        service.stop()
    assert returncode != 0
    output = service.output()
    assert "ModelIntegrityError" in output and str(tampered) in output, output
    assert "Restore the original file" in output, output
    assert not (tmp_path / "state" / "audit").exists()
