"""Records to DataFrames and feature-matrix alignment, shared by the service and the pipeline.

The notebook's feature code (common/features.py) was written for the whole training frame.
At serving time it gets a frame of one or a few records, built here with the same columns in
the same order (the columns a request does not carry, the target among them, filled with None,
so that code such as ``df.drop(columns=["churned"])`` runs unchanged; missing text is NaN, as
pandas reads it). One-hot encoding of a few records yields
fewer columns than training did, so the feature matrix is then aligned to the training
columns before the model sees it.
"""
import numbers
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np
import pandas as pd


def records_to_frame(records: Sequence[Dict[str, Any]], frame_columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of `records` (dicts keyed by column name) with `frame_columns` in order.

    Columns a record does not have (the target, always) are None. Object columns whose values
    are all numbers or None become float, as they were when the training frame was read:
    pandas leaves a column of Nones (or of ints mixed with Nones) as object dtype, which
    numeric feature code and models do not accept.
    """
    columns = list(frame_columns)
    rows = [[record.get(column) for column in columns] for record in records]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if frame[column].dtype != object:
            continue
        if _all_numbers_or_none(frame[column]):
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
        elif frame[column].isna().any():
            # a missing text value is NaN in a table pandas read, not None: imputers and encoders
            # fitted on the training table treat NaN as missing and None as a category of its own
            frame[column] = frame[column].where(frame[column].notna(), np.nan)
    return frame


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
