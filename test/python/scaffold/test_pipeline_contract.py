"""common/contract.py (static template): records and frames against the generated JSON Schemas.

Run: npm run test:python -- -k pipeline (under both interpreters),
  or PYTHON -m pytest test/python/scaffold -q -k pipeline
"""
import importlib.util
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CONTRACT_PY = Path(__file__).resolve().parents[3] / "src" / "core" / "scaffold" / "templates" / "common" / "contract.py"
_spec = importlib.util.spec_from_file_location("nb2prod_template_contract", CONTRACT_PY)
contract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(contract)

REASON = contract.REASON_COLUMN

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["tenure_months", "contract", "support_calls"],
    "properties": {
        "tenure_months": {"type": "number", "minimum": 0, "maximum": 72},
        "contract": {"type": "string", "enum": ["month-to-month", "one-year", "two-year"]},
        "support_calls": {"type": "number", "minimum": 0, "maximum": 9, "description": "calls"},
        "income": {"type": ["number", "null"], "minimum": 0, "maximum": 250000},
        "signup": {"type": "string", "format": "date-time"},
        "is_member": {"type": "boolean"},
        "note": {"type": "string"},
    },
}
GOOD = {"tenure_months": 12, "contract": "one-year", "support_calls": 2.0, "income": 52000.5,
        "signup": "2024-05-01T12:30:00Z", "is_member": False, "note": "vip"}


def reasons(record):
    return contract.validate_record(SCHEMA, record)


def test_a_valid_record_has_no_reasons_and_optional_fields_may_be_absent():
    assert reasons(GOOD) == []
    assert reasons({"tenure_months": 0, "contract": "two-year", "support_calls": 9}) == []


@pytest.mark.parametrize("change, expected", [
    ({"tenure_months": -3}, "tenure_months: -3 is below the minimum 0"),
    ({"tenure_months": 72.5}, "tenure_months: 72.5 is above the maximum 72"),
    ({"contract": "weekly"}, "contract: 'weekly' is not one of 'month-to-month', 'one-year', 'two-year'"),
    ({"support_calls": None}, "support_calls: missing"),
    ({"support_calls": float("nan")}, "support_calls: missing"),
    ({"tenure_months": True}, "tenure_months: True is not a number"),
    ({"tenure_months": "12"}, "tenure_months: '12' is not a number"),
    ({"tenure_months": float("inf")}, "tenure_months: inf is not a finite number"),
    ({"is_member": 1}, "is_member: 1 is not a boolean"),
    ({"note": 5}, "note: 5 is not a string"),
    ({"signup": "yesterday"}, "signup: 'yesterday' is not a date-time (expected e.g. '2024-05-01T12:30:00Z')"),
    ({"signup": "2024-13-01T00:00:00Z"}, "signup: '2024-13-01T00:00:00Z' is not a date-time (expected e.g. '2024-05-01T12:30:00Z')"),
    ({"income": -1}, "income: -1 is below the minimum 0"),
    ({"extra": 1}, "extra: not in the contract"),
])
def test_each_broken_rule_gives_one_readable_reason(change, expected):
    assert reasons(dict(GOOD, **change)) == [expected]


def test_missing_required_fields_are_named_first_and_every_reason_is_kept():
    record = {"tenure_months": -1, "contract": "weekly", "other": 1}
    assert reasons(record) == [
        "support_calls: missing",
        "tenure_months: -1 is below the minimum 0",
        "contract: 'weekly' is not one of 'month-to-month', 'one-year', 'two-year'",
        "other: not in the contract",
    ]


def test_nullable_numbers_accept_null_and_nan_and_numpy_scalars_are_numbers():
    assert reasons(dict(GOOD, income=None)) == []
    assert reasons(dict(GOOD, income=float("nan"))) == []
    assert reasons(dict(GOOD, tenure_months=np.int64(5), support_calls=np.float32(1.5),
                        is_member=np.bool_(True))) == []
    assert reasons(dict(GOOD, tenure_months=np.int64(99))) == ["tenure_months: 99 is above the maximum 72"]


def test_date_times_with_offsets_fractions_or_no_offset_are_accepted():
    for value in ("2024-05-01T12:30:00Z", "2024-05-01T12:30:00.123+02:00", "2024-05-01 12:30:00",
                  "2024-05-01T12:30:00-0500"):
        assert reasons(dict(GOOD, signup=value)) == [], value


def test_booleans_are_not_in_a_numeric_enum_and_integers_must_be_whole():
    schema = {"type": "object", "properties": {"label": {"type": "number", "enum": [0, 1]},
                                               "count": {"type": "integer", "minimum": 0}}}
    assert contract.validate_record(schema, {"label": 1, "count": 3}) == []
    assert contract.validate_record(schema, {"label": True}) == ["label: True is not a number"]
    assert contract.validate_record(schema, {"label": 2}) == ["label: 2 is not one of 0, 1"]
    assert contract.validate_record(schema, {"count": 2.5}) == ["count: 2.5 is not an integer"]
    assert contract.validate_record(schema, {"count": 2.0}) == []


def test_load_schema_reads_a_contract_and_refuses_unsupported_formats(tmp_path):
    good = tmp_path / "input.schema.json"
    good.write_text(json.dumps(SCHEMA), encoding="utf-8")
    assert contract.load_schema(good)["required"] == SCHEMA["required"]
    odd = tmp_path / "odd.schema.json"
    odd.write_text(json.dumps({"properties": {"mail": {"type": "string", "format": "email"}}}), encoding="utf-8")
    with pytest.raises(contract.ContractError, match="only \"date-time\""):
        contract.load_schema(odd)


# --------------------------------------------------------------------------------------------
# Frames

def messy_frame():
    return pd.DataFrame({
        "tenure_months": [12, -3, 80, np.nan, 5, 6],
        "contract": ["one-year", "weekly", "two-year", "one-year", None, "month-to-month"],
        "support_calls": [1, 2, 3, 4, 5, 6],
        "income": [None, 1.0, -1.0, 2.0, 3.0, np.inf],
        "signup": ["2024-01-01 00:00:00", "x", None, "2024-01-01T00:00:00+01:00", "2024-13-01T00:00:00", "2024-02-02T10:00:00Z"],
        "is_member": [True, False, 1, None, True, np.bool_(False)],
        "note": ["x", "y", 3, "z", "w", "v"],
    }, index=[10, 11, 12, 13, 14, 15])


def test_split_frame_keeps_the_index_and_joins_a_rows_reasons_in_contract_order():
    good, bad = contract.split_frame(SCHEMA, messy_frame())
    assert list(good.index) == [10]
    assert list(bad.index) == [11, 12, 13, 14, 15]
    assert list(bad.columns) == list(messy_frame().columns) + [REASON]
    assert bad.loc[11, REASON] == ("tenure_months: -3 is below the minimum 0; "
                                   "contract: 'weekly' is not one of 'month-to-month', 'one-year', 'two-year'; "
                                   "signup: 'x' is not a date-time (expected e.g. '2024-05-01T12:30:00Z')")
    assert bad.loc[12, REASON] == ("tenure_months: 80 is above the maximum 72; income: -1 is below the minimum 0; "
                                   "signup: missing; is_member: 1 is not a boolean; note: 3 is not a string")
    assert bad.loc[13, REASON] == "tenure_months: missing; is_member: missing"
    assert bad.loc[15, REASON] == "income: inf is not a finite number"


def test_split_frame_and_validate_record_agree_row_by_row():
    frame = messy_frame()
    _, bad = contract.split_frame(SCHEMA, frame)
    for label, row in frame.iterrows():
        record = {k: v for k, v in row.items()}
        expected = contract.validate_record(SCHEMA, record)
        assert ("; ".join(expected) or None) == (bad.loc[label, REASON] if label in bad.index else None)


def test_nan_is_null_ints_are_numbers_and_bools_are_not():
    schema = {"type": "object", "required": ["n"], "properties": {"n": {"type": ["number", "null"], "minimum": 0},
                                                                  "m": {"type": "number"}}}
    frame = pd.DataFrame({"n": [1, np.nan, 3], "m": [1, 2, 3]})
    good, bad = contract.split_frame(schema, frame)
    assert len(good) == 3 and bad.empty
    bools = pd.DataFrame({"n": [True, False], "m": [1.5, 2.5]})
    _, bad = contract.split_frame(schema, bools)
    assert bad[REASON].tolist() == ["n: True is not a number", "n: False is not a number"]
    mixed = pd.DataFrame({"n": [1, "2", None, True], "m": [1, 1, 1, 1]})
    _, bad = contract.split_frame(schema, mixed)
    assert bad[REASON].to_dict() == {1: "n: '2' is not a number", 3: "n: True is not a number"}


def test_numbers_in_a_string_column_and_categoricals_are_checked():
    schema = {"type": "object", "properties": {"c": {"type": "string", "enum": ["a", "b"]}}}
    frame = pd.DataFrame({"c": pd.Categorical(["a", "b", "z", None])})
    _, bad = contract.split_frame(schema, frame)
    assert bad[REASON].to_dict() == {2: "c: 'z' is not one of 'a', 'b'", 3: "c: missing"}
    numbers = pd.DataFrame({"c": [1, 2]})
    _, bad = contract.split_frame(schema, numbers)
    assert bad[REASON].tolist() == ["c: 1 is not a string", "c: 2 is not a string"]


def test_a_datetime_column_meets_a_date_time_string_property():
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    frame = pd.DataFrame({"at": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    good, bad = contract.split_frame(schema, frame)
    assert len(good) == 2 and bad.empty


def test_missing_required_columns_fail_the_whole_frame_not_its_rows():
    frame = messy_frame().drop(columns=["support_calls", "contract"])
    with pytest.raises(contract.ContractError, match="no column 'contract', 'support_calls' required by the contract"):
        contract.split_frame(SCHEMA, frame)


def test_extra_columns_fail_the_frame_only_when_the_contract_forbids_them():
    frame = messy_frame().assign(extra=1)
    with pytest.raises(contract.ContractError, match="'extra'"):
        contract.split_frame(SCHEMA, frame)
    open_schema = dict(SCHEMA, additionalProperties=True)
    good, _ = contract.split_frame(open_schema, frame)
    assert "extra" in good.columns


def test_an_empty_frame_splits_into_two_empty_frames():
    frame = messy_frame().iloc[:0]
    good, bad = contract.split_frame(SCHEMA, frame)
    assert good.empty and bad.empty and REASON in bad.columns


def test_a_million_rows_split_in_about_a_second():
    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "tenure_months": rng.integers(-1, 75, n),
        "contract": rng.choice(["month-to-month", "one-year", "two-year", "weekly"], n, p=[.5, .3, .19, .01]),
        "support_calls": rng.integers(0, 10, n).astype(float),
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 100000),
        "is_member": rng.random(n) < 0.5,
        "note": rng.choice(["a", "b"], n),
    })
    started = time.perf_counter()
    good, bad = contract.split_frame(SCHEMA, frame)
    elapsed = time.perf_counter() - started
    print("\nsplit_frame: %d rows x %d columns in %.2f s (%d quarantined)" % (n, frame.shape[1], elapsed, len(bad)))
    expected_bad = ((frame.tenure_months < 0) | (frame.tenure_months > 72) | (frame.contract == "weekly")).sum()
    assert len(bad) == expected_bad and len(good) + len(bad) == n
    assert bad[REASON].str.match(r"^(tenure_months|contract): ").all()


def test_show_prints_values_as_a_person_reads_them():
    assert contract.show(3.0) == "3"
    assert contract.show(np.float64(2.5)) == "2.5"
    assert contract.show("x") == "'x'"
    assert contract.show(np.int64(7)) == "7"
    assert math.isinf(float(contract.show(float("inf"))))
