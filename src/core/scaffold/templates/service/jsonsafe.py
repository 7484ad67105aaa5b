"""Plain-JSON values from model outputs and validated records (numpy scalars, dates, NaN)."""
import datetime
import decimal
import hashlib
import json
import math
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """`value` as str/int/float/bool/None/list/dict; NaN and infinities become None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return to_jsonable(float(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [to_jsonable(item) for item in value]
    return str(value)


def canonical_json(value: Any) -> str:
    """The one JSON text of `value` that hashes are computed on: sorted keys, no spaces, ASCII
    (json.dumps' defaults otherwise, so anyone can recompute a hash with one line of Python)."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))


def input_sha256(record: Any) -> str:
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()
