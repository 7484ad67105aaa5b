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
from typing import Any, Callable, Dict, List, Optional

from service.predictor import RawPrediction
from service.settings import ConfigError


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


OPS: Dict[str, Callable[[Any, Any], bool]] = {
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
    warnings: List[str] = field(default_factory=list)
    review_reasons: List[str] = field(default_factory=list)
    #: the record's identifier (config "id_column"), passed through untouched
    passthrough: Dict[str, Any] = field(default_factory=dict)

    def response_item(self) -> Dict[str, Any]:
        return {
            **self.passthrough,
            "prediction": self.prediction,
            "probability": self.probability,
            "needs_review": self.needs_review,
            "fallback": self.fallback,
            "rule": self.rule,
            "warnings": list(self.warnings),
        }


def check_rules(rules: List[Dict[str, Any]], input_columns: List[str]) -> None:
    """Refuse to start on a rule that could never work, rather than ignore it in production."""
    for index, rule in enumerate(rules):
        name = rule.get("name") or "#%d" % (index + 1)
        where = "service/config.json rule %r" % name
        if not rule.get("when") or not isinstance(rule["when"], list):
            raise ConfigError("%s has no conditions (\"when\": [...]): it would match every record." % where)
        then = rule.get("then") or {}
        if not ("prediction" in then or "needs_review" in then):
            raise ConfigError('%s sets nothing: "then" needs "prediction" and/or "needs_review".' % where)
        for condition in rule["when"]:
            op = condition.get("op")
            if op not in OPS:
                raise ConfigError("%s uses op %r; expected one of %s." % (where, op, ", ".join(OPS)))
            if condition.get("field") not in input_columns:
                raise ConfigError(
                    "%s tests field %r, which is not an input column (%s)."
                    % (where, condition.get("field"), ", ".join(input_columns))
                )
            if op in LIST_OPS and not isinstance(condition.get("value"), list):
                raise ConfigError('%s: op %r needs a list "value".' % (where, op))


def rule_matches(rule: Dict[str, Any], record: Dict[str, Any]) -> bool:
    return all(
        OPS[condition["op"]](record.get(condition["field"]), condition.get("value"))
        for condition in rule["when"]
    )


def first_matching_rule(rules: List[Dict[str, Any]], record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    for rule in rules:
        if rule_matches(rule, record):
            return rule
    return None


def passthrough(record: Optional[Dict[str, Any]], config: Dict[str, Any]) -> Dict[str, Any]:
    """{id_column: its value in the record}, or {} when the service has no id column."""
    column = config.get("id_column")
    if not column or record is None:
        return {}
    return {column: record.get(column)}


def decide(raw: RawPrediction, record: Dict[str, Any], config: Dict[str, Any]) -> Decision:
    decision = Decision(
        prediction=raw.prediction,
        probability=raw.probability,
        needs_review=False,
        fallback=False,
        rule=None,
        warnings=list(raw.warnings),
        passthrough=passthrough(record, config),
    )
    threshold = config.get("confidence_threshold")
    if threshold is not None and raw.probability is not None and raw.probability < threshold:
        reason = "probability %.4g of the predicted class is below the confidence threshold %g" % (
            raw.probability,
            threshold,
        )
        decision.needs_review = True
        decision.review_reasons.append(reason)
        decision.warnings.append("flagged for review: %s" % reason)
    rule = first_matching_rule(config.get("rules") or [], record)
    if rule is not None:
        _apply_rule(decision, rule)
    return decision


def _apply_rule(decision: Decision, rule: Dict[str, Any]) -> None:
    name = rule.get("name") or "unnamed rule"
    then = rule["then"]
    decision.rule = name
    if "prediction" in then and then["prediction"] != decision.prediction:
        # the model's probability was for the class it predicted, not for the rule's
        decision.prediction = then["prediction"]
        decision.probability = None
    if "needs_review" in then:
        decision.needs_review = bool(then["needs_review"])
        if decision.needs_review:
            decision.review_reasons.append("rule %s: %s" % (name, rule.get("reason") or "flagged for review"))
        else:
            decision.review_reasons = []
    decision.warnings.append("rule %s applied: %s" % (name, rule.get("reason") or "overrides the model"))


def fallback_decision(config: Dict[str, Any], reason: str, record: Optional[Dict[str, Any]] = None) -> Decision:
    fallback = config["fallback"]
    return Decision(
        passthrough=passthrough(record, config),
        prediction=fallback.get("prediction"),
        probability=fallback.get("probability"),
        needs_review=False,
        fallback=True,
        rule=None,
        warnings=[
            "kill switch on (%s): this is the fallback, %s, not the model's prediction"
            % (reason, fallback.get("description") or "a fixed answer from service/config.json")
        ],
    )
