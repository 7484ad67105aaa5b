"""common/frames.py's records_to_frame (the generated service's records -> DataFrame, on every
request): the frame the feature code gets must be the one pandas reads from a table of the same
rows, gaps included (numbers with gaps are float, a column of nothing but gaps is float, text
keeps NaN), since that is what the notebook's code and the fitted model saw in training.

Run: PYTHON -m pytest test/python/scaffold/test_frames.py -q
"""
import importlib.util
import io
import math
from pathlib import Path

import pandas as pd
import pytest

FRAMES = Path(__file__).resolve().parents[3] / "src" / "core" / "scaffold" / "templates" / "common" / "frames.py"


def load_frames():
    spec = importlib.util.spec_from_file_location("nb2prod_template_frames", FRAMES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


records_to_frame = load_frames().records_to_frame

# The columns of a training table, one of each shape, and the target the requests never carry.
COLUMNS = ["age", "income", "plan", "active", "visits", "note", "churned"]
ROWS = [
    {"age": 34, "income": 52000.5, "plan": "basic", "active": True, "visits": 3, "note": "ok"},
    {"age": 51, "income": 61000.0, "plan": "pro", "active": False, "visits": None, "note": None},
    {"age": 29, "income": 38000.25, "plan": None, "active": True, "visits": 7},
]


def read_back(records, columns):
    """The same rows as pandas reads them from a CSV (an empty cell for a gap)."""
    text = io.StringIO()
    pd.DataFrame([[record.get(column) for column in columns] for record in records], columns=columns).to_csv(text, index=False)
    text.seek(0)
    return pd.read_csv(text)


def cells(frame):
    """Each column's values, NaN as a marker (NaN != NaN), with their Python types."""
    return {
        column: [("NaN" if isinstance(v, float) and math.isnan(v) else (type(v).__name__, v)) for v in frame[column].tolist()]
        for column in frame.columns
    }


@pytest.mark.parametrize("rows", [ROWS[:1], ROWS[:2], ROWS, ROWS[1:2]], ids=["one full", "two", "three", "one with gaps"])
def test_the_frame_is_the_table_pandas_reads(rows):
    frame = records_to_frame(rows, COLUMNS)
    expected = read_back(rows, COLUMNS)
    assert list(frame.columns) == COLUMNS
    assert frame.dtypes.tolist() == expected.dtypes.tolist()
    assert cells(frame) == cells(expected)


def test_gaps_are_nan_never_none():
    frame = records_to_frame(ROWS, COLUMNS)
    assert str(frame["churned"].dtype) == "float64" and frame["churned"].isna().all()
    assert str(frame["visits"].dtype) == "float64"  # integers with a gap
    assert frame["plan"].tolist()[2] is not None and pd.isna(frame["plan"].tolist()[2])
    assert frame["note"].isna().tolist() == [False, True, True]


def test_numbers_pandas_cannot_type_become_float():
    # integers beyond int64 leave pandas with an object column: float, as a read table has them
    frame = records_to_frame([{"id": 2**70}, {"id": 5}, {"id": None}], ["id"])
    assert str(frame["id"].dtype) == "float64"
    assert frame["id"].tolist()[:2] == [float(2**70), 5.0]


def test_mixed_values_stay_as_given():
    frame = records_to_frame([{"code": "A1"}, {"code": 7}, {"code": None}], ["code"])
    assert frame["code"].dtype == object
    assert frame["code"].tolist()[:2] == ["A1", 7] and pd.isna(frame["code"].tolist()[2])
