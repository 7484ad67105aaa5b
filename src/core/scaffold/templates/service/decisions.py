"""From the model's raw prediction to the answer: rule overrides, review flags, the fallback.

config.json's ``rules`` are checked in order and the first whose every condition holds wins:
``{"name": ..., "when": [{"field": column, "op": op, "value": v}], "then": {"prediction": p,
"needs_review": true}, "reason": ...}``. A prediction whose probability is below
``confidence_threshold`` needs review. While the kill switch is on, every answer is
``fallback`` from config.json: no model, no rules. A record's ``id_column`` (config.json), when
the request carried it, is passed through to its answer (and so to the audit log).
"""
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from service.predictor import RawPrediction
from service.settings import ConfigError, Fallback, Rule, Settings


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """An ordering that is simply false for nulls and for values that do not compare (text < 3)."""

    def check(value: Any, expected: Any) -> bool:
        if _is_null(value) or expected is None:
            return False
        try:
            return bool(compare(value, expected))
        except TypeError:
            return False

    return check


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda value, expected: value == expected,
    "!=": lambda value, expected: value != expected,
    "<": _compare(operator.lt),
    "<=": _compare(operator.le),
    ">": _compare(operator.gt),
    ">=": _compare(operator.ge),
    "in": lambda value, expected: value in expected,
    "not_in": lambda value, expected: value not in expected,
    "is_null": lambda value, expected: _is_null(value),
    "not_null": lambda value, expected: not _is_null(value),
}
LIST_OPS = ("in", "not_in")


@dataclass
class Decision:
    prediction: Any
    probability: Optional[float]
    needs_review: bool
    fallback: bool
    rule: Optional[str]
    warnings: list[str] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    #: the record's identifier (settings.id_column), passed through untouched
    passthrough: dict[str, Any] = field(default_factory=dict)
    #: the model's probability of every class ([[class, p], ...]): for the audit log, not the answer
    scores: Optional[list[Any]] = None
    #: answered by the fallback because the kill switch was on
    kill_switch: bool = False
    #: the model that answered (the champion's, or a canary challenger's), set by the service
    model_reference: Optional[dict[str, Any]] = None

    def response_item(self) -> dict[str, Any]:
        return {
            **self.passthrough,
            "prediction": self.prediction,
            "probability": self.probability,
            "needs_review": self.needs_review,
            "fallback": self.fallback,
            "rule": self.rule,
            "warnings": list(self.warnings),
        }


def check_rules(rules: list[Rule], input_columns: list[str], check_prediction: Callable[[Any], Optional[str]]) -> None:
    """Refuse to start on a rule that could never work, rather than ignore it in production.
    `check_prediction(value)` says why a value is not a valid prediction (None when it is)."""
    for index, rule in enumerate(rules):
        where = f"service/config.json rule {rule.name or f'#{index + 1}'!r}"
        if not rule.when:
            raise ConfigError(f'{where} has no conditions ("when": [...]): it would match every record.')
        if not (rule.then.sets_prediction or rule.then.needs_review is not None):
            raise ConfigError(f'{where} sets nothing: "then" needs "prediction" and/or "needs_review".')
        if rule.then.sets_prediction:
            problem = check_prediction(rule.then.prediction)
            if problem:
                raise ConfigError(f"{where} sets the prediction {rule.then.prediction!r}, which the service cannot answer: {problem}.")
        for condition in rule.when:
            if condition.op not in OPS:
                raise ConfigError(f"{where} uses op {condition.op!r}; expected one of {', '.join(OPS)}.")
            if condition.field not in input_columns:
                raise ConfigError(
                    f"{where} tests field {condition.field!r}, which is not an input column ({', '.join(input_columns)})."
                )
            if condition.op in LIST_OPS and not isinstance(condition.value, list):
                raise ConfigError(f'{where}: op {condition.op!r} needs a list "value".')


def check_fallback(fallback: Fallback, check_prediction: Callable[[Any], Optional[str]]) -> None:
    """Refuse to start on a fallback the service could not send while the kill switch is on."""
    problem = check_prediction(fallback.prediction)
    if problem:
        raise ConfigError(
            f"service/config.json fallback.prediction {fallback.prediction!r} is not a valid prediction: {problem}."
        )


def rule_matches(rule: Rule, record: dict[str, Any]) -> bool:
    return all(OPS[condition.op](record.get(condition.field), condition.value) for condition in rule.when)


def first_matching_rule(rules: list[Rule], record: dict[str, Any]) -> Optional[Rule]:
    for rule in rules:
        if rule_matches(rule, record):
            return rule
    return None


def passthrough(record: Optional[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """{id_column: its value in the record}, or {} when the service has no id column."""
    if not settings.id_column or record is None:
        return {}
    return {settings.id_column: record.get(settings.id_column)}


def decide(raw: RawPrediction, record: dict[str, Any], settings: Settings) -> Decision:
    decision = Decision(
        prediction=raw.prediction,
        probability=raw.probability,
        needs_review=False,
        fallback=False,
        rule=None,
        warnings=list(raw.warnings),
        passthrough=passthrough(record, settings),
        scores=raw.scores,
    )
    threshold = settings.confidence_threshold
    if threshold is not None and raw.probability is not None and raw.probability < threshold:
        reason = f"probability {raw.probability:.4g} of the predicted class is below the confidence threshold {threshold:g}"
        decision.needs_review = True
        decision.review_reasons.append(reason)
        decision.warnings.append(f"flagged for review: {reason}")
    rule = first_matching_rule(settings.rules, record)
    if rule is not None:
        _apply_rule(decision, rule)
    return decision


def _apply_rule(decision: Decision, rule: Rule) -> None:
    name = rule.name or "unnamed rule"
    then = rule.then
    decision.rule = name
    if then.sets_prediction and then.prediction != decision.prediction:
        # the model's probability was for the class it predicted, not for the rule's
        decision.prediction = then.prediction
        decision.probability = None
    if then.needs_review is not None:
        decision.needs_review = then.needs_review
        if decision.needs_review:
            decision.review_reasons.append(f"rule {name}: {rule.reason or 'flagged for review'}")
        else:
            decision.review_reasons = []
    decision.warnings.append(f"rule {name} applied: {rule.reason or 'overrides the model'}")


def fallback_decision(fallback: Fallback, reason: str, passed_through: Optional[dict[str, Any]] = None) -> Decision:
    description = fallback.description or "a fixed answer from service/config.json"
    return Decision(
        passthrough=dict(passed_through or {}),
        prediction=fallback.prediction,
        probability=fallback.probability,
        needs_review=False,
        fallback=True,
        rule=None,
        warnings=[f"kill switch on ({reason}): this is the fallback, {description}, not the model's prediction"],
        kill_switch=True,
    )
