"""Post-processing: rule overrides from config.json and review flags (confidence threshold),
with flagged records appended to the review queue."""
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.compat import validate_model
from service.decisions import OPS, check_rules, first_matching_rule, rule_matches
from service.settings import ConfigError, Rule, Settings


def rule_of(data):
    """A rule of config.json, as the settings hold it."""
    return validate_model(Rule, data)


def any_prediction(value):
    return None


def override_rule(config, name="test-override", op="not_null"):
    """A rule on the first input column that every valid record matches (op not_null)."""
    return {
        "name": name,
        "when": [{"field": config["input_columns"][0], "op": op}],
        "then": {"prediction": config["fallback"]["prediction"], "needs_review": True},
        "reason": "set by the test",
    }


def test_a_matching_rule_overrides_the_model_and_flags_for_review(make_client, service_config, golden, settings, validated, jsonl):
    service_config["rules"] = [override_rule(service_config)]
    client = make_client(service_config)
    row = golden["rows"][0]
    body = client.post("/predict", json=row["input"]).json()
    assert body["rule"] == "test-override"
    assert body["prediction"] == service_config["fallback"]["prediction"]
    assert body["needs_review"] is True
    if row["prediction"] != body["prediction"]:
        assert body["probability"] is None  # the model's probability was for another class
    elif row["probability"] is None:
        assert body["probability"] is None
    else:
        assert body["probability"] == pytest.approx(row["probability"], abs=1e-9)

    queue = jsonl(settings.review_queue)
    assert len(queue) == 1
    assert queue[0]["input"] == validated(row["input"])
    assert queue[0]["request_id"] == body["request_id"]
    assert queue[0]["rule"] == "test-override"
    assert any("test-override" in reason for reason in queue[0]["reasons"])


def test_the_first_matching_rule_wins_and_non_matching_rules_do_nothing(make_client, service_config, valid_record):
    never = override_rule(service_config, name="never", op="is_null")  # required fields are never null
    first = override_rule(service_config, name="first")
    second = override_rule(service_config, name="second")
    service_config["rules"] = [never, first, second]
    body = make_client(service_config).post("/predict", json=valid_record).json()
    assert body["rule"] == "first"

    service_config["rules"] = [never]
    body = make_client(service_config).post("/predict", json=valid_record).json()
    assert body["rule"] is None


def test_a_rule_can_clear_the_review_flag(make_client, service_config, valid_record, settings, jsonl):
    service_config["confidence_threshold"] = 1.0 + 1e-9  # every prediction would need review
    rule = override_rule(service_config)
    rule["then"] = {"needs_review": False}
    service_config["rules"] = [rule]
    body = make_client(service_config).post("/predict", json=valid_record).json()
    assert body["needs_review"] is False
    assert jsonl(settings.review_queue) == []


def test_a_probability_below_the_confidence_threshold_needs_review(make_client, service_config, golden, settings, validated, jsonl):
    service_config["rules"] = []
    with_probability = [row for row in golden["rows"] if row.get("probability") is not None]
    if not with_probability:
        # no probabilities (a regressor, or a classifier without predict_proba): nothing to compare
        service_config["confidence_threshold"] = 0.99
        body = make_client(service_config).post("/predict", json=golden["rows"][0]["input"]).json()
        assert body["probability"] is None and body["needs_review"] is False
        return
    row = min(with_probability, key=lambda r: r["probability"])
    probability = row["probability"]

    service_config["confidence_threshold"] = probability / 2
    body = make_client(service_config).post("/predict", json=row["input"]).json()
    assert body["needs_review"] is False
    assert jsonl(settings.review_queue) == []

    service_config["confidence_threshold"] = probability + 1e-6
    body = make_client(service_config).post("/predict", json=row["input"]).json()
    assert body["needs_review"] is True
    assert any("confidence threshold" in warning for warning in body["warnings"])
    queue = jsonl(settings.review_queue)
    assert len(queue) == 1
    assert queue[0]["input"] == validated(row["input"])
    assert queue[0]["probability"] == pytest.approx(probability, abs=1e-9)
    assert "confidence threshold" in queue[0]["reasons"][0]


@pytest.mark.parametrize(
    "op, value, field_value, expected",
    [
        ("==", "a", "a", True), ("==", "a", "b", False),
        ("!=", "a", "b", True), ("!=", "a", "a", False),
        ("<", 1, 0.5, True), ("<", 1, 1, False), ("<", 1, None, False), ("<", 1, "text", False),
        ("<=", 1, 1, True), ("<=", 1, 2, False),
        (">", 1, 2, True), (">", 1, 1, False), (">", 1, None, False),
        (">=", 1, 1, True), (">=", 1, 0, False),
        ("in", ["a", "b"], "b", True), ("in", ["a", "b"], "c", False),
        ("not_in", ["a", "b"], "c", True), ("not_in", ["a", "b"], "a", False),
        ("is_null", None, None, True), ("is_null", None, float("nan"), True), ("is_null", None, 0, False),
        ("not_null", None, 0, True), ("not_null", None, None, False),
    ],
)
def test_each_rule_operator(op, value, field_value, expected):
    rule = rule_of({"name": "r", "when": [{"field": "x", "op": op, "value": value}], "then": {"needs_review": True}})
    assert rule_matches(rule, {"x": field_value}) is expected


def test_every_condition_of_a_rule_must_hold():
    rule = rule_of({"name": "both", "when": [{"field": "x", "op": ">", "value": 1}, {"field": "y", "op": "==", "value": "a"}],
                    "then": {"needs_review": True}})
    assert first_matching_rule([rule], {"x": 2, "y": "a"}) is rule
    assert first_matching_rule([rule], {"x": 2, "y": "b"}) is None
    assert set(OPS) == {"==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null"}


@pytest.mark.parametrize(
    "rule, complaint",
    [
        ({"name": "r", "when": [{"field": "x", "op": "~", "value": 1}], "then": {"prediction": 1}}, "op"),
        ({"name": "r", "when": [{"field": "nope", "op": "==", "value": 1}], "then": {"prediction": 1}}, "not an input column"),
        ({"name": "r", "when": [{"field": "x", "op": "in", "value": 1}], "then": {"prediction": 1}}, "list"),
        ({"name": "r", "when": [], "then": {"prediction": 1}}, "no conditions"),
        ({"name": "r", "when": [{"field": "x", "op": "is_null"}], "then": {}}, "sets nothing"),
    ],
)
def test_a_rule_that_cannot_work_stops_the_start(rule, complaint):
    with pytest.raises(ConfigError, match=complaint):
        check_rules([rule_of(rule)], ["x"], any_prediction)


def test_the_service_refuses_to_start_on_a_rule_it_could_not_answer(service_config, state_dir):
    rule = override_rule(service_config)
    rule["then"]["prediction"] = {"not": "a prediction"}
    service_config["rules"] = [rule]
    with pytest.raises(ConfigError, match="test-override"):
        with TestClient(create_app(Settings.from_env(config=service_config))):
            pass


def test_the_service_refuses_to_start_on_a_fallback_it_could_not_answer(service_config, state_dir):
    service_config["fallback"]["prediction"] = ["not", "a", "prediction"]
    with pytest.raises(ConfigError, match="fallback"):
        with TestClient(create_app(Settings.from_env(config=service_config))):
            pass


def test_a_misspelt_rule_is_refused_with_where_it_is(service_config, state_dir):
    rule = override_rule(service_config)
    rule["wehn"] = rule.pop("when")
    service_config["rules"] = [rule]
    with pytest.raises(ConfigError, match="rules.0"):
        Settings.from_env(config=service_config)
