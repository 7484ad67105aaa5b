"""Records to DataFrames and feature-matrix alignment, shared by the service and the pipeline.

The notebook's feature code (common/features.py) was written for the whole training frame.
At serving time it gets a frame of one or a few records, built here with the same columns in
the same order (the columns a request does not carry, the target among them, there as missing
values, so that code such as ``df.drop(columns=["churned"])`` runs unchanged; missing values are
NaN, as pandas reads them). One-hot encoding of a few records yields
fewer columns than training did, so the feature matrix is then aligned to the training
columns before the model sees it.
"""
import numbers
from typing import Any, Dict, Iterable, List, Optional, Sequence

import pandas as pd


def records_to_frame(records: Sequence[Dict[str, Any]], frame_columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of `records` (dicts keyed by column name) with `frame_columns` in order.

    Missing values (a column the record does not have, the target always, or None) are NaN, as
    in a table pandas read: numbers with gaps are float, a column of nothing but gaps is float,
    text keeps NaN (imputers and encoders fitted on the training table treat NaN as missing and
    None as a category of its own). Putting NaN in the rows before pandas sees them gives these
    dtypes in one pass; the loop below only catches object columns of numbers pandas could not
    type (integers beyond int64), which become float as the training frame's were.
    """
    columns = list(frame_columns)
    rows = [[_MISSING if (value := record.get(column)) is None else value for column in columns] for record in records]
    frame = pd.DataFrame(rows, columns=columns)
    for index, (column, dtype) in enumerate(zip(columns, frame.dtypes)):
        if dtype == object and _all_numbers_or_none(row[index] for row in rows):
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    return frame


#: What a missing value is in the frame: NaN, as pandas reads an empty cell.
_MISSING = float("nan")


def _all_numbers_or_none(values: Iterable[Any]) -> bool:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
    return True


def align_columns(X: Any, columns: Optional[Sequence[str]]) -> Any:
    """X with exactly `columns`, in that order: absent ones filled with 0, unknown ones dropped.

    0 is the right value for the columns that go missing in practice, one-hot columns of
    categories the request does not contain. `columns` None means no alignment (the model
    did not record its input columns). A numpy matrix cannot be aligned by name, so its width
    is only checked.
    """
    if columns is None:
        return X
    columns = list(columns)
    if isinstance(X, pd.DataFrame):
        return X.reindex(columns=columns, fill_value=0)
    width = X.shape[1] if getattr(X, "ndim", 0) == 2 else None
    if width != len(columns):
        raise ValueError(
            "build_features returned a matrix of shape %s without column names, but the model "
            "expects %d columns: return a DataFrame from common/features.py so that columns "
            "can be aligned by name"
            % (getattr(X, "shape", None), len(columns))
        )
    return X


def unknown_columns(X: Any, columns: Optional[Sequence[str]]) -> List[str]:
    """Columns of the DataFrame X that the model was not trained with (align_columns drops them)."""
    if columns is None or not isinstance(X, pd.DataFrame):
        return []
    known = set(columns)
    return [str(column) for column in X.columns if column not in known]
