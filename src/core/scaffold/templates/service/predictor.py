"""The model's raw predictions for validated records, computed the way training computed features.

records (dicts by column name) -> records_to_frame -> build_features -> align_columns -> model.

A number outside the range training saw (contracts/profile.json) is answered, with a warning
naming the field: the model extrapolates there, and the drift gauges count it.
"""
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd

from common.frames import align_columns, records_to_frame, unknown_columns
from service.jsonsafe import to_jsonable
from service.model import LoadedModel
from service.settings import Settings


@dataclass
class RawPrediction:
    prediction: Any
    probability: Optional[float]
    warnings: List[str] = field(default_factory=list)
    #: every class with its probability ([[class, p], ...]) for classifiers with predict_proba:
    #: the audit log keeps them, for the monitor's AUC and its estimate before labels arrive
    scores: Optional[List[List[Any]]] = None


class Predictor:
    def __init__(self, model: LoadedModel, settings: Settings, build_features):
        self.model = model
        self.frame_columns = settings.frame_columns
        self.build_features = build_features
        self.classifier = settings.task == "classification"
        self.ranges = training_ranges(settings.profile_path, settings.input_columns)

    def predict(self, records: Sequence[Dict[str, Any]]) -> List[RawPrediction]:
        if not records:
            return []
        estimator = self.model.estimator
        frame = records_to_frame(records, self.frame_columns)
        features = self.build_features(frame)
        if len(features) != len(records):
            # Predictions could no longer be matched to their records: refuse rather than guess.
            raise ValueError(
                "the feature code (common/features.py) returned %d rows for %d records: it drops or adds "
                "rows (dropna, a filter, a merge), so predictions cannot be matched to records"
                % (len(features), len(records))
            )
        unknown = unknown_columns(features, self.model.feature_columns)
        X = align_columns(features, self.model.feature_columns)
        if self.classifier and _predict_is_argmax_of_proba(estimator):
            # One pass through the model instead of two: predict is the argmax of predict_proba.
            matrix = estimator.predict_proba(X)
            rows = matrix.tolist()
            winners = [max(range(len(row)), key=row.__getitem__) for row in rows]
            predictions = [estimator.classes_[i] for i in winners]
            probabilities: List[Optional[float]] = [float(rows[row][i]) for row, i in enumerate(winners)]
            scores = _scores(estimator, rows)
        else:
            predictions = list(estimator.predict(X))
            probabilities, scores = self._probabilities(X, predictions)
        results = []
        for row, prediction in enumerate(predictions):
            results.append(
                RawPrediction(
                    prediction=to_jsonable(prediction),
                    probability=probabilities[row],
                    warnings=self.range_warnings(records[row]) + _ignored_feature_warnings(features, unknown, row),
                    scores=scores[row] if scores is not None else None,
                )
            )
        return results

    def range_warnings(self, record: Dict[str, Any]) -> List[str]:
        """One warning per number of `record` outside the range training saw."""
        warnings = []
        for column, (low, high) in self.ranges.items():
            value = record.get(column)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
                warnings.append(f"{column} {value:g} is outside the training range {low:g} to {high:g}: the model extrapolates")
        return warnings

    def _probabilities(self, X: Any, predictions: List[Any]) -> "tuple[List[Optional[float]], Optional[List[Any]]]":
        """The probability of each predicted class, and every class's, for classifiers that have predict_proba."""
        estimator = self.model.estimator
        if not self.classifier or not hasattr(estimator, "predict_proba"):
            return [None] * len(predictions), None
        matrix = estimator.predict_proba(X)
        rows = matrix.tolist()
        classes = list(getattr(estimator, "classes_", []))
        out: List[Optional[float]] = []
        for row, prediction in enumerate(predictions):
            if prediction in classes:
                out.append(float(rows[row][classes.index(prediction)]))
            else:  # no classes_ to look the column up: the predicted class is the likeliest
                out.append(float(max(rows[row])))
        return out, _scores(estimator, rows)


def _scores(estimator: Any, rows: List[List[float]]) -> Optional[List[Any]]:
    """[[class, probability], ...] per row, classes as JSON values (None without classes_)."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    labels = [to_jsonable(label) for label in classes]
    if len(labels) != (len(rows[0]) if rows else 0):
        return None
    return [[[label, float(p)] for label, p in zip(labels, row)] for row in rows]


#: Estimators whose predict() is classes_[argmax(predict_proba())] (ties to the first class, as
#: numpy's argmax): trees and their ensembles, linear models with a monotone link, neighbours,
#: naive Bayes. SVC is not one (its probabilities come from a separate calibration).
_ARGMAX_ESTIMATORS = frozenset({
    "DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier",
    "GradientBoostingClassifier", "HistGradientBoostingClassifier", "LogisticRegression",
    "KNeighborsClassifier", "GaussianNB", "MultinomialNB", "BernoulliNB", "ComplementNB",
})


def _predict_is_argmax_of_proba(estimator: Any) -> bool:
    final = estimator
    # A Pipeline predicts with its last step.
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        final = steps[-1][1]
    return type(final).__name__ in _ARGMAX_ESTIMATORS and hasattr(estimator, "classes_") and hasattr(estimator, "predict_proba")


def training_ranges(profile_path: Path, input_columns: Sequence[str]) -> Dict[str, Tuple[float, float]]:
    """{column: (min, max)} of the numeric input columns in the training profile ({} without one)."""
    try:
        with open(profile_path, encoding="utf-8") as handle:
            profile = json.load(handle)
    except (OSError, ValueError) as error:
        logging.getLogger("nb2prod.service").warning("%s unreadable (%s): no training-range warnings", profile_path, error)
        return {}
    wanted = set(input_columns)
    ranges = {}
    for column in profile.get("columns") or []:
        low, high = column.get("min"), column.get("max")
        if column.get("name") in wanted and column.get("type") == "numeric" and all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low, high)):
            ranges[column["name"]] = (float(low), float(high))
    return ranges


def _ignored_feature_warnings(features: Any, unknown: List[str], row: int) -> List[str]:
    """One warning per feature of this row the model does not know and that is set (not 0/empty)."""
    if not unknown:
        return []
    warnings = []
    for column in unknown:
        value = features[column].iloc[row]
        if pd.notna(value) and value != 0:
            warnings.append(
                "feature %r was not in the training data's features and was ignored: the input "
                "probably holds a value training never saw" % column
            )
    return warnings
