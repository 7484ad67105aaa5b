"""/metrics: Prometheus text format 0.0.4 with request, prediction, kill-switch and drift series."""
import math
import re

import pytest

from service.drift import PSI_EPSILON, bin_counts, psi, psi_cuts, reference_for, severity

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample; checks the line syntax on the way."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        key = (name, tuple(sorted(LABEL.findall(labels or ""))))
        samples[key] = float(value.replace("+Inf", "inf"))
    return samples


def value(samples, metric, **labels):
    return samples.get((metric, tuple(sorted(labels.items()))))


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def test_counters_and_latency_histogram_after_requests(client, golden_inputs, service_config):
    for record in golden_inputs[:3]:
        assert client.post("/predict", json=record).status_code == 200
    assert client.post("/predict/batch", json={"records": golden_inputs[:2]}).status_code == 200
    assert client.post("/predict", json={"not": "a record"}).status_code == 422
    client.get("/health")

    samples = scrape(client)
    assert value(samples, "nb2prod_requests_total", endpoint="/predict", status="200") == 3
    assert value(samples, "nb2prod_requests_total", endpoint="/predict", status="422") == 1
    assert value(samples, "nb2prod_requests_total", endpoint="/predict/batch", status="200") == 1
    assert value(samples, "nb2prod_requests_total", endpoint="/health", status="200") == 1
    assert value(samples, "nb2prod_predictions_total") == 5
    assert value(samples, "nb2prod_prediction_errors_total") == 0
    assert value(samples, "nb2prod_fallback_predictions_total") == 0
    assert value(
        samples, "nb2prod_model_info",
        name=str(service_config["model"].get("name") or service_config["name"]),
        version="" if service_config["model"].get("version") is None else str(service_config["model"]["version"]),
        sha256=service_config["model"]["sha256"],
    ) == 1

    buckets = sorted(
        (float(dict(labels)["le"].replace("+Inf", "inf")), count)
        for (name, labels), count in samples.items()
        if name == "nb2prod_request_latency_seconds_bucket" and dict(labels)["endpoint"] == "/predict"
    )
    counts = [count for _, count in buckets]
    assert counts == sorted(counts), "histogram buckets must be cumulative"
    assert buckets[-1][0] == math.inf
    assert buckets[-1][1] == value(samples, "nb2prod_request_latency_seconds_count", endpoint="/predict") == 4
    assert value(samples, "nb2prod_request_latency_seconds_sum", endpoint="/predict") > 0


def test_review_flags_are_counted(make_client, service_config, golden_inputs):
    service_config["confidence_threshold"] = 1.0 + 1e-9  # every probability is below it
    client = make_client(service_config)
    body = client.post("/predict/batch", json={"records": golden_inputs}).json()
    flagged = sum(item["needs_review"] for item in body["predictions"])
    assert value(scrape(client), "nb2prod_review_flagged_total") == flagged


def test_kill_switch_gauge_follows_the_switch(client, monkeypatch, service_config, valid_record):
    name = (service_config.get("kill_switch") or {}).get("env") or "NB2PROD_KILL_SWITCH"
    assert value(scrape(client), "nb2prod_kill_switch_active") == 0
    monkeypatch.setenv(name, "1")
    client.post("/predict", json=valid_record)
    samples = scrape(client)
    assert value(samples, "nb2prod_kill_switch_active") == 1
    assert value(samples, "nb2prod_fallback_predictions_total") == 1
    monkeypatch.delenv(name)
    assert value(scrape(client), "nb2prod_kill_switch_active") == 0


def drift_columns(project_json, service_config, records):
    """Input columns with a usable profile reference and at least one value in `records`."""
    wanted = set(service_config["input_columns"])
    return sorted(
        column["name"]
        for column in project_json("contracts/profile.json")["columns"]
        if column["name"] in wanted
        and reference_for(column) is not None
        and any(record.get(column["name"]) is not None for record in records)
    )


def test_drift_gauges_appear_once_the_window_has_min_rows(make_client, service_config, golden_inputs, project_json):
    min_rows = min(5, len(golden_inputs))
    service_config["drift"] = dict(service_config.get("drift") or {}, window=50, min_rows=min_rows)
    client = make_client(service_config)

    client.post("/predict/batch", json={"records": golden_inputs[: min_rows - 1]})
    samples = scrape(client)
    assert value(samples, "nb2prod_drift_window_rows") == min_rows - 1
    assert not [key for key in samples if key[0] == "nb2prod_input_drift_psi"]

    client.post("/predict/batch", json={"records": golden_inputs})
    samples = scrape(client)
    assert value(samples, "nb2prod_drift_window_rows") == min(50, min_rows - 1 + len(golden_inputs))
    expected = drift_columns(project_json, service_config, golden_inputs)
    assert expected, "no input column has a drift reference in contracts/profile.json"
    monitor, retrain = service_config["drift"]["monitor"], service_config["drift"]["retrain"]
    for column in expected:
        score = value(samples, "nb2prod_input_drift_psi", column=column)
        assert score is not None and score >= 0 and math.isfinite(score), column
        code = {"stable": 0, "monitor": 1, "retrain": 2}[severity(score, monitor, retrain)]
        assert value(samples, "nb2prod_input_drift_status", column=column) == code


def test_the_window_keeps_only_the_last_records(make_client, service_config, golden_inputs):
    service_config["drift"] = dict(service_config.get("drift") or {}, window=3, min_rows=1)
    client = make_client(service_config)
    client.post("/predict/batch", json={"records": golden_inputs})
    assert value(scrape(client), "nb2prod_drift_window_rows") == min(3, len(golden_inputs))


# The PSI arithmetic, on numbers small enough to check by hand.

def test_psi_is_zero_for_identical_distributions():
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0, abs=1e-15)


def test_psi_of_a_shift_and_of_an_empty_bin():
    assert psi([50, 50], [25, 75]) == pytest.approx((0.25 - 0.5) * math.log(0.5) + (0.75 - 0.5) * math.log(1.5))
    assert psi([100, 0], [50, 50]) == pytest.approx(
        (0.5 - 1.0) * math.log(0.5) + (0.5 - PSI_EPSILON) * math.log(0.5 / PSI_EPSILON)
    )


def test_outer_bins_are_open_ended_and_a_constant_column_gets_three_bins():
    cuts = psi_cuts([0.0, 1.0, 2.0, 3.0])
    assert cuts == [1.0, 2.0]
    assert bin_counts([-5.0, 0.5, 1.0, 2.5, 99.0], cuts) == [2, 1, 2]
    constant = psi_cuts([4.0, 4.0])
    assert bin_counts([3.0, 4.0, 4.0, 5.0], constant) == [1, 2, 1]
    reference = reference_for({"name": "c", "type": "numeric", "bins": {"edges": [4.0, 4.0], "counts": [10]}})
    assert reference.psi([4.0] * 10) == pytest.approx(0.0, abs=1e-12)
    assert reference.psi([5.0] * 10) > 1


def test_categories_outside_the_profile_top_share_one_other_bucket():
    reference = reference_for({"name": "c", "type": "categorical", "count": 100,
                               "top": [{"value": "a", "count": 60}, {"value": "b", "count": 30}]})
    # reference: a 0.6, b 0.3, other 0.1; current: a 0.6, b 0.3, other (x and y) 0.1
    assert reference.psi(["a"] * 6 + ["b"] * 3 + ["x", None]) == pytest.approx(0.0, abs=1e-12)
    assert reference.psi(["a"] * 6 + ["b"] * 3 + ["y"]) == pytest.approx(0.0, abs=1e-12)
    booleans = reference_for({"name": "f", "type": "boolean", "count": 4,
                              "top": [{"value": "True", "count": 2}, {"value": "False", "count": 2}]})
    assert booleans.psi([True, False]) == pytest.approx(0.0, abs=1e-12)
