"""The service honours the data contracts in contracts/: what training data looks like passes,
what breaks the input schema is refused with a 422 naming the field, responses match the
output schema. The cases are derived from contracts/input.schema.json itself, and are strict
the way JSON Schema is: a number field refuses "36" and true (and takes 3), an integer field
refuses 1.5, "2" and true (and takes 2.0), a string field refuses 5, a boolean field refuses 1
and "true", null passes only where the schema allows it."""
import copy
import json
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_CATEGORY = "__not_a_category_seen_in_training__"
EXTRA_FIELD = "__unexpected_field__"
MISSING = object()  # a case value meaning "leave the field out"


def input_schema() -> Dict[str, Any]:
    with open(PROJECT_ROOT / "contracts" / "input.schema.json", encoding="utf-8") as handle:
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


def typical_number(prop: Dict[str, Any], valid: Any) -> float:
    """A number the field accepts: the valid record's, else the lower bound, else 1."""
    if isinstance(valid, (int, float)) and not isinstance(valid, bool):
        return valid
    return prop.get("minimum", prop.get("maximum", 1))


def integer_in_range(prop: Dict[str, Any], near: float) -> Any:
    """The integer closest to `near` within the field's bounds (None when there is none)."""
    low, high = prop.get("minimum", -math.inf), prop.get("maximum", math.inf)
    candidate = round(near)
    if low > -math.inf:
        candidate = max(candidate, math.ceil(low))
    if high < math.inf:
        candidate = min(candidate, math.floor(high))
    return candidate if low <= candidate <= high else None


def fractional_in_range(prop: Dict[str, Any], near: float) -> float:
    """A number with a fraction, within the bounds when they leave room for one."""
    base = math.floor(near)
    for candidate in (base + 0.5, base - 0.5, base + 1.5):
        if prop.get("minimum", -math.inf) <= candidate <= prop.get("maximum", math.inf):
            return candidate
    return base + 0.5


# kind -> value(prop, valid value of the field): every way the schema says a field can be wrong
Maker = Callable[[Dict[str, Any], Any], Any]
STRICT_CASES: Dict[str, List[Tuple[str, Maker]]] = {
    "number": [
        ("numeric-string", lambda prop, valid: str(typical_number(prop, valid))),
        ("boolean-for-number", lambda prop, valid: True),
        ("text-for-number", lambda prop, valid: "not a number"),
    ],
    "integer": [
        ("fraction-for-integer", lambda prop, valid: fractional_in_range(prop, typical_number(prop, valid))),
        ("numeric-string", lambda prop, valid: str(int(typical_number(prop, valid)))),
        ("boolean-for-integer", lambda prop, valid: True),
    ],
    "string": [
        ("number-for-string", lambda prop, valid: 5),
        ("object-for-string", lambda prop, valid: {"an": "object"}),
    ],
    "boolean": [
        ("number-for-boolean", lambda prop, valid: 1),
        ("string-for-boolean", lambda prop, valid: "true"),
    ],
}


def broken_cases(schema: Dict[str, Any]) -> List[Tuple[str, str, Maker]]:
    """(field, what is wrong, value maker) for every way the schema says a field can be wrong;
    a maker returning MISSING means the field is left out."""
    required = set(schema.get("required", []))
    cases: List[Tuple[str, str, Maker]] = []
    for field, prop in schema.get("properties", {}).items():
        kinds = types_of(prop)
        main = "integer" if "integer" in kinds else next((kind for kind in kinds if kind != "null"), None)
        cases += [(field, kind, make) for kind, make in STRICT_CASES.get(main, [])]
        if "minimum" in prop:
            cases.append((field, "below-minimum", lambda prop, valid: prop["minimum"] - max(1, abs(prop["minimum"]))))
        if "maximum" in prop:
            cases.append((field, "above-maximum", lambda prop, valid: prop["maximum"] + max(1, abs(prop["maximum"]))))
        if "enum" in prop:
            cases.append((field, "not-in-enum", lambda prop, valid: UNKNOWN_CATEGORY))
        if "null" not in kinds:
            cases.append((field, "null", lambda prop, valid: None))
        if field in required:
            cases.append((field, "missing", lambda prop, valid: MISSING))
    if schema.get("additionalProperties") is False:
        cases.append((EXTRA_FIELD, "extra-field", lambda prop, valid: "surprise"))
    return cases


def accepted_cases(schema: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(field, case) for what JSON Schema accepts and a strict model must not refuse: an
    integer for a number, an integral float for an integer, null where null is allowed."""
    cases = []
    for field, prop in schema.get("properties", {}).items():
        kinds = types_of(prop)
        if "integer" in kinds:
            cases.append((field, "integral-float-for-integer"))
        elif "number" in kinds and integer_in_range(prop, prop.get("minimum", 0)) is not None:
            cases.append((field, "integer-for-number"))
        if "null" in kinds:
            cases.append((field, "null-where-allowed"))
    return cases


CASES = broken_cases(input_schema())
ACCEPTED = accepted_cases(input_schema())


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
    properties = input_schema()["properties"]
    for field, prop in properties.items():
        kinds = {kind for name, kind, _ in CASES if name == field}
        assert kinds & {"numeric-string", "number-for-string", "number-for-boolean"}, (field, prop)


@pytest.mark.parametrize("field, kind, make", CASES, ids=[f"{field}-{kind}" for field, kind, _ in CASES])
def test_a_broken_record_is_refused_naming_the_field(client, valid_record, field, kind, make):
    record = copy.deepcopy(valid_record)
    value = make(input_schema()["properties"].get(field, {}), record.get(field))
    if value is MISSING:
        record.pop(field)
    else:
        record[field] = value
    assert schema_errors(input_schema(), record), f"the JSON schema itself accepts the {kind} case ({value!r})"
    response = client.post("/predict", json=record)
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in [error["field"] for error in body["errors"]], body
    assert field in json.dumps(body["detail"])


@pytest.mark.parametrize("field, kind", ACCEPTED, ids=[f"{field}-{kind}" for field, kind in ACCEPTED])
def test_what_json_schema_accepts_is_accepted_and_keeps_its_type(client, valid_record, validated, field, kind):
    prop = input_schema()["properties"][field]
    record = copy.deepcopy(valid_record)
    near = typical_number(prop, record.get(field))
    if kind == "integer-for-number":
        value = integer_in_range(prop, near)
    elif kind == "integral-float-for-integer":
        value = float(integer_in_range(prop, near))
    else:
        value = None
    record[field] = value
    assert schema_errors(input_schema(), record) == [], f"the JSON schema itself refuses the {kind} case"
    response = client.post("/predict", json=record)
    # A null reaches the feature code and the model, which may not take it (when training
    # dropped the rows with nulls, say): the contract is only that validation lets it through.
    assert response.status_code == 200 if value is not None else response.status_code != 422, response.text
    served = validated(record)[field]
    if kind == "integer-for-number":  # stays a number (3 -> 3.0), not text or a boolean
        assert isinstance(served, float) and served == value
    elif kind == "integral-float-for-integer":  # 2.0 -> 2
        assert type(served) is int and served == value
    else:
        assert served is None


def test_a_broken_record_in_a_batch_is_named_with_its_position(client, golden_inputs):
    records = copy.deepcopy(golden_inputs[:2])
    field, kind, make = CASES[0]
    records[1][field] = make(input_schema()["properties"][field], records[1].get(field))
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 422
    assert f"records[1].{field}" in [error["field"] for error in response.json()["errors"]]


def test_responses_match_the_output_schema(client, golden_inputs, project_json):
    schema = project_json("contracts/output.schema.json")
    for record in golden_inputs:
        body = client.post("/predict", json=record).json()
        assert schema_errors(schema, body) == [], body
    batch = client.post("/predict/batch", json={"records": golden_inputs}).json()
    for item in batch["predictions"]:
        # a batch item is a /predict response without the request-level fields
        full = dict(item, model=batch["model"], request_id=batch["request_id"], client_request_id=batch["client_request_id"])
        assert schema_errors(schema, full) == [], item
