"""Data-contract checks inside the pipeline: after a step named in pipeline/config.json
"validation", its frame is checked against a contract (contracts/*.schema.json). Rows that break
it are quarantined, not trained on:

- they are written to ``var/quarantine/<frame>-<UTC timestamp>.csv`` (NB2PROD_STATE_DIR replaces
  var/) with a ``_nb2prod_reason`` column saying what is wrong with each row;
- the frame in the pipeline's namespace is replaced by the good rows (their index kept);
- the run fails when the quarantined share is above "max_quarantine_share" (default 0.05; null
  for no limit), since then the data, not a few rows, is the problem.
"""
import datetime as _dt
import logging
from pathlib import Path
from typing import Any, Dict, List, MutableMapping, Optional

import pandas as pd

from common.contract import REASON_COLUMN, ContractError, load_schema, split_frame
from pipeline import settings
from pipeline.framework import PipelineError

log = logging.getLogger("nb2prod.pipeline")

DEFAULT_MAX_SHARE = 0.05


def max_share(config: Dict[str, Any]) -> Optional[float]:
    """The largest share of rows that may be quarantined; None: no limit."""
    value = config.get("max_quarantine_share", DEFAULT_MAX_SHARE)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise PipelineError("pipeline/config.json: max_quarantine_share must be a number from 0 "
                            "to 1 (or null for no limit), not %r" % (value,))
    return float(value)


def quarantine_file(directory: Path, frame_name: str, now: Optional[_dt.datetime] = None) -> Path:
    """A new file name var/quarantine/<frame>-<UTC timestamp>.csv (suffixed when taken)."""
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    path = directory / ("%s-%s.csv" % (frame_name, stamp))
    counter = 2
    while path.exists():
        path = directory / ("%s-%s-%d.csv" % (frame_name, stamp, counter))
        counter += 1
    return path


def validate_frame(entry: Dict[str, Any], frame: Any, config: Dict[str, Any],
                   quarantine_dir: Optional[Path] = None, root: Path = settings.PROJECT_ROOT):
    """Checks *frame* as the validation *entry* says; returns (good rows, report dict).

    Raises PipelineError (naming entry["step"]) when the frame cannot be checked or too many of
    its rows break the contract.
    """
    step_name, frame_name = entry["step"], entry["frame"]
    schema_path = root / entry["schema"]
    if not isinstance(frame, pd.DataFrame):
        raise PipelineError("%r after step %r is %s, not a pandas DataFrame: pipeline/config.json "
                            "\"validation\" can only check DataFrames"
                            % (frame_name, step_name, type(frame).__name__), step_name)
    try:
        schema = load_schema(schema_path)
        good, bad = split_frame(schema, frame)
    except (OSError, ValueError) as error:  # ContractError is a ValueError
        what = "cannot be checked" if isinstance(error, ContractError) else "has no readable contract"
        raise PipelineError("%r after step %r %s against %s: %s"
                            % (frame_name, step_name, what, entry["schema"], error), step_name)

    rows = len(frame)
    share = len(bad) / rows if rows else 0.0
    report = {"step": step_name, "frame": frame_name, "schema": entry["schema"], "rows": rows,
              "quarantined": len(bad), "share": round(share, 6), "file": None}
    limit = max_share(config)
    too_many = limit is not None and share > limit
    if len(bad):
        directory = quarantine_dir if quarantine_dir is not None else settings.quarantine_dir(root)
        directory.mkdir(parents=True, exist_ok=True)
        path = quarantine_file(directory, frame_name)
        bad.to_csv(path, index=False)
        report["file"] = str(path)
        examples = bad[REASON_COLUMN].head(3).tolist()
        log.warning("%s: %d of %d rows (%.2f%%) break %s and were quarantined to %s%s. First "
                    "reasons: %s", frame_name, len(bad), rows, 100 * share, entry["schema"],
                    settings.shown(path, root), "" if too_many else "; the other %d go on" % len(good),
                    " | ".join(examples))
    else:
        log.info("%s: all %d rows meet %s", frame_name, rows, entry["schema"])

    if too_many:
        raise PipelineError(
            "%.2f%% of the rows of %r (%d of %d) break %s, above max_quarantine_share %.2f%%: see %s. "
            "Fix the data (or the contract, if the data legitimately changed), or raise "
            "max_quarantine_share in pipeline/config.json."
            % (100 * share, frame_name, len(bad), rows, entry["schema"], 100 * limit,
               settings.shown(Path(report["file"]), root)), step_name)
    return good, report


def validate_after(step_name: str, namespace: MutableMapping[str, Any], config: Dict[str, Any],
                   quarantine_dir: Optional[Path] = None,
                   root: Path = settings.PROJECT_ROOT) -> List[Dict[str, Any]]:
    """Runs every validation configured for *step_name*, replacing frames by their good rows."""
    reports = []
    for entry in config.get("validation", []):
        if entry["step"] != step_name:
            continue
        if entry["frame"] not in namespace:
            raise PipelineError("pipeline/config.json validates %r after step %r, but no step up to "
                                "there produced it (names: %s)"
                                % (entry["frame"], step_name, ", ".join(sorted(namespace)) or "none"),
                                step_name)
        good, report = validate_frame(entry, namespace[entry["frame"]], config, quarantine_dir, root)
        namespace[entry["frame"]] = good
        reports.append(report)
    return reports
