"""The service serves what the notebook trained. tests/golden/sample.json (written by
`python -m pipeline.golden`) holds held-out rows of the training data as requests carry them,
what the notebook's own code path predicts for them, and what the shipped model predicts.

Over the app, one record at a time and in a batch, the service must give the shipped model's
predictions: a difference is training/serving skew (the service builds features differently,
or applies other fitted steps). And the shipped model must predict what the notebook's code
does, unless the run drew randomness without a seed: then the sample says so."""
import math

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


def same_prediction(expected, actual):
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    return actual == expected


def assert_same(expected, actual, where):
    assert actual["fallback"] is False, where
    assert same_prediction(expected["prediction"], actual["prediction"]), "%s: the service predicts %r, the golden sample %r" % (
        where, actual["prediction"], expected["prediction"])
    if expected.get("probability") is None:
        assert actual["probability"] is None, where
    else:
        assert actual["probability"] == pytest.approx(expected["probability"], abs=PROBABILITY_TOLERANCE), where


def test_the_shipped_model_predicts_what_the_notebook_does(golden):
    if not golden.get("reproduced", True):
        # Not a failure at random: the run's randomness was unseeded, so retraining gives another model.
        assert golden["unseeded"] and golden["note"], "a sample that does not reproduce must say why"
        return
    for index, row in enumerate(golden["rows"]):
        notebook = row.get("notebook")
        assert notebook is not None, "row %d has no notebook prediction: run `python -m pipeline.golden`" % index
        assert same_prediction(notebook["prediction"], row["prediction"]), (index, row)
        if notebook["probability"] is None:
            assert row["probability"] is None, index
        else:
            assert row["probability"] == pytest.approx(notebook["probability"], abs=PROBABILITY_TOLERANCE), index


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


def test_the_id_column_is_passed_through(model_client, golden, service_config):
    column = service_config.get("id_column")
    if not column:
        assert all(set(row["input"]) == set(service_config["input_columns"]) for row in golden["rows"])
        return
    row = golden["rows"][0]
    assert row["input"].get(column) is not None, "the golden rows carry the id column"
    answer = model_client.post("/predict", json=row["input"]).json()
    assert answer[column] == row["input"][column]
    without = {k: v for k, v in row["input"].items() if k != column}
    answer = model_client.post("/predict", json=without).json()
    assert answer[column] is None and answer["prediction"] == row["prediction"]
