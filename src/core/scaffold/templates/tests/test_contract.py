"""The service honours the data contracts in contracts/: what training data looks like passes,
what breaks the input schema is refused with a 422 naming the field, responses match the
output schema. Broken records are derived from contracts/input.schema.json itself."""
import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_CATEGORY = "__not_a_category_seen_in_training__"
EXTRA_FIELD = "__unexpected_field__"
MISSING = object()  # a case value meaning "leave the field out"


def input_schema() -> Dict[str, Any]:
    with open(PROJECT_ROOT / "contracts" / "input.schema.json", "r", encoding="utf-8") as handle:
        return json.load(handle)


def schema_errors(schema: Dict[str, Any], instance: Dict[str, Any]) -> List[str]:
    """Why `instance` breaks the JSON schema ([] when valid): jsonschema when it is installed,
    else the project's own validator."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        from common.contract import validate_record

        return validate_record(schema, instance)
    return [error.message for error in Draft202012Validator(schema).iter_errors(instance)]


def types_of(prop: Dict[str, Any]) -> List[str]:
    kind = prop.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def wrong_type_value(prop: Dict[str, Any]) -> Any:
    """A value no property of this type accepts (pydantic's lax coercions included)."""
    kinds = types_of(prop)
    if "number" in kinds or "integer" in kinds:
        return "not a number"
    if "boolean" in kinds:
        return "not a boolean"
    return {"an": "object"}


def broken_cases(schema: Dict[str, Any]) -> List[Tuple[str, str, Any]]:
    """(field, what is wrong, value) for every way the schema says a field can be wrong;
    value MISSING means the field is left out."""
    required = set(schema.get("required", []))
    cases = []
    for field, prop in schema.get("properties", {}).items():
        cases.append((field, "wrong-type", wrong_type_value(prop)))
        if "minimum" in prop:
            cases.append((field, "below-minimum", prop["minimum"] - max(1, abs(prop["minimum"]))))
        if "maximum" in prop:
            cases.append((field, "above-maximum", prop["maximum"] + max(1, abs(prop["maximum"]))))
        if "enum" in prop:
            cases.append((field, "not-in-enum", UNKNOWN_CATEGORY))
        if "null" not in types_of(prop):
            cases.append((field, "null", None))
        if field in required:
            cases.append((field, "missing", MISSING))
    if schema.get("additionalProperties") is False:
        cases.append((EXTRA_FIELD, "extra-field", "surprise"))
    return cases


CASES = broken_cases(input_schema())


def test_the_input_schema_describes_the_configured_input_columns(service_config):
    schema = input_schema()
    passed_through = [service_config["id_column"]] if service_config.get("id_column") else []
    assert sorted(schema["properties"]) == sorted(service_config["input_columns"] + passed_through)
    assert sorted(schema.get("required", [])) == sorted(service_config["input_columns"])


def test_training_rows_pass_the_request_model_and_the_schema(golden_inputs, validated):
    schema = input_schema()
    for record in golden_inputs:
        assert schema_errors(schema, record) == [], record
        assert sorted(validated(record)) == sorted(record)


def test_every_way_to_break_the_schema_is_covered():
    kinds = {kind for _, kind, _ in CASES}
    assert "wrong-type" in kinds
    assert len(CASES) >= len(input_schema()["properties"])


@pytest.mark.parametrize("field, kind, value", CASES, ids=["%s-%s" % (f, k) for f, k, _ in CASES])
def test_a_broken_record_is_refused_naming_the_field(client, valid_record, field, kind, value):
    record = copy.deepcopy(valid_record)
    if value is MISSING:
        record.pop(field)
    else:
        record[field] = value
    assert schema_errors(input_schema(), record), "the JSON schema itself accepts the %s case" % kind
    response = client.post("/predict", json=record)
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in [error["field"] for error in body["errors"]], body
    assert field in json.dumps(body["detail"])


def test_a_broken_record_in_a_batch_is_named_with_its_position(client, golden_inputs):
    records = golden_inputs[:2]
    field, kind, value = CASES[0]
    records[1][field] = value
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 422
    assert "records[1].%s" % field in [error["field"] for error in response.json()["errors"]]


def test_responses_match_the_output_schema(client, golden_inputs, project_json):
    schema = project_json("contracts/output.schema.json")
    for record in golden_inputs:
        body = client.post("/predict", json=record).json()
        assert schema_errors(schema, body) == [], body
    batch = client.post("/predict/batch", json={"records": golden_inputs}).json()
    for item in batch["predictions"]:
        # a batch item is a /predict response without the request-level fields
        full = dict(item, model=batch["model"], request_id=batch["request_id"])
        assert schema_errors(schema, full) == [], item
