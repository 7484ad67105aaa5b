"""A bounded load script for a generated service on loopback: real rows of the training data,
optionally drifting, sent one by one over HTTP, and labels sent later through POST /feedback.

    stream = records_from(frame, input_columns, n=400, seed=1)                  # as training saw them
    drifted = drift(stream, profile, seed=2, numeric="tenure_months", category=("contract", "month-to-month"))
    sent = send(service, drifted)                                                  # [(request_id, record, answer)]
    labels = concept_drift_labels(sent, target_rows, flip=0.4, seed=2)             # what became known later
    post_labels(service, labels, known_after_hours=72)

Everything is bounded: a fixed number of requests, each with a timeout, to 127.0.0.1 only.
"""
import datetime
import math
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple


def json_value(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records_from(frame, columns: Sequence[str], target: str, n: int, seed: int) -> List[Tuple[Dict[str, Any], Any]]:
    """n rows drawn (with replacement) from the data: (request record, true label)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        row = frame.iloc[rng.randrange(len(frame))]
        rows.append(({c: json_value(row[c]) for c in columns}, json_value(row[target])))
    return rows


def drift(rows, profile: Dict[str, Any], seed: int, numeric: Optional[str] = None, category: Optional[Tuple[str, Any]] = None):
    """The same rows with `numeric` pushed to the low end of its training range (the profile's
    minimum, contracts/profile.json) and `category` set to one value for most rows: the inputs
    move, within what training saw."""
    rng = random.Random(seed)
    columns = {c["name"]: c for c in profile["columns"]}
    out = []
    for record, label in rows:
        record = dict(record)
        if numeric is not None and record.get(numeric) is not None:
            column = columns[numeric]
            low = column["min"]
            value = low + (record[numeric] - low) * 0.15
            record[numeric] = int(round(value)) if column.get("integer") or isinstance(record[numeric], int) else value
        if category is not None and rng.random() < 0.9:
            record[category[0]] = category[1]
        out.append((record, label))
    return out


def send(service, rows) -> List[Tuple[str, Dict[str, Any], Dict[str, Any], Any]]:
    """POST /predict for each row; returns (request_id, record, answer, true label) of the 200s."""
    sent = []
    for record, label in rows:
        reply = service.predict(record)
        assert reply.status == 200, reply.text
        body = reply.json()
        sent.append((body["request_id"], record, body, label))
    return sent


def concept_drift_labels(sent, flip: float, seed: int, classes: Sequence[Any]) -> List[Dict[str, Any]]:
    """The true labels, a share `flip` of them replaced by another class: the world changed
    (concept drift), so the model's accuracy on these requests drops."""
    rng = random.Random(seed)
    items = []
    for request_id, _record, _answer, label in sent:
        if rng.random() < flip:
            label = rng.choice([c for c in classes if c != label])
        items.append({"request_id": request_id, "label": label})
    return items


def post_labels(service, items: List[Dict[str, Any]], known_after_hours: float = 0, source: str = "explicit", chunk: int = 200) -> int:
    """POST /feedback/batch in chunks; `known_at` is now + known_after_hours (labels known later)."""
    known_at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=known_after_hours)).isoformat().replace("+00:00", "Z")
    accepted = 0
    for start in range(0, len(items), chunk):
        batch = [dict(item, known_at=known_at, source=source) for item in items[start:start + chunk]]
        reply = service.request("POST", "/feedback/batch", {"items": batch})
        assert reply.status == 202, reply.text
        accepted += reply.json()["accepted"]
    return accepted
