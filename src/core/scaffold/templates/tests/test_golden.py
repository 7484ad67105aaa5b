"""Training/serving skew: over HTTP, one record at a time, the service predicts what the model
predicted on the same rows in training's batch feature path (tests/golden/sample.json, written
by `python -m pipeline.golden`). A difference means the service builds features differently."""
import pytest

PROBABILITY_TOLERANCE = 1e-9


@pytest.fixture
def model_client(make_client, service_config):
    """The app without rule overrides: this test compares the model itself with training."""
    service_config["rules"] = []
    return make_client(service_config)


def test_the_golden_sample_is_from_the_served_model(golden, service_config):
    assert golden["model_sha256"] == service_config["model"]["sha256"], (
        "tests/golden/sample.json was computed with another model file: run `python -m pipeline.golden`"
    )


def assert_same(expected, actual, where):
    assert actual["fallback"] is False, where
    assert actual["prediction"] == expected["prediction"], "%s: the service predicts %r, training's path %r" % (
        where, actual["prediction"], expected["prediction"])
    if expected.get("probability") is None:
        assert actual["probability"] is None, where
    else:
        assert actual["probability"] == pytest.approx(expected["probability"], abs=PROBABILITY_TOLERANCE), where


def test_one_record_at_a_time_matches_training(model_client, golden):
    for index, row in enumerate(golden["rows"]):
        response = model_client.post("/predict", json=row["input"])
        assert response.status_code == 200, "row %d: %s" % (index, response.text)
        assert_same(row, response.json(), "golden row %d %r" % (index, row["input"]))


def test_a_batch_matches_training(model_client, golden, service_config):
    rows = golden["rows"]
    size = int(service_config["limits"]["max_batch"])
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        response = model_client.post("/predict/batch", json={"records": [row["input"] for row in chunk]})
        assert response.status_code == 200, response.text
        for offset, (row, item) in enumerate(zip(chunk, response.json()["predictions"])):
            assert_same(row, item, "golden row %d" % (start + offset))
