"""The pipeline runner: runs pipeline.steps.STEPS in order, as the notebook ran its sections.

    python -m pipeline [--param name=value]... [--until STEP] [--retries N]

What a run does:
1. reads pipeline/config.json, puts the project root on sys.path and changes into the working
   directory (config "workdir", or NB2PROD_WORKDIR), where the notebook's relative paths start;
   stops when an environment variable the notebook's code reads (config "environment") is unset;
2. calls each step with its positional parameters taken by name from the namespace (the outputs
   of earlier steps) and its keyword-only parameters from config "params", overridden by
   ``--param name=value`` (value parsed as JSON when it parses, else kept as a string);
3. retries a failing step as often as its @step(retries=N) says (or --retries), waiting 0.5 s,
   1 s, 2 s ... (NB2PROD_RETRY_BACKOFF_SECONDS sets the first wait);
4. after a step named in config "validation", checks its frame against the contract and
   quarantines bad rows (see pipeline/validation.py);
5. after the last step, evaluates the model on the held-out set (see pipeline/evaluate.py);
6. writes the run summary var/reports/pipeline-run.json (NB2PROD_STATE_DIR replaces var/):
   steps with status, duration and attempts, quarantine counts, metrics, the model file and its
   sha256, the parameters used, and the nb2prod run id when nb2prod tracks the run.

Progress goes to stderr through the ``logging`` logger "nb2prod.pipeline": each step's start,
end, duration and outputs (names and shapes, never values). ``run_pipeline()`` runs it from
Python and returns the namespace (pipeline/golden.py runs it up to the features step).
"""
import argparse
import datetime as _dt
import importlib
import inspect
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from pipeline import settings
from pipeline.framework import PipelineError, StepInfo, UsageError, step_info
from common.hashing import file_sha256 as _sha256

log = logging.getLogger("nb2prod.pipeline")

DEFAULT_BACKOFF_SECONDS = 0.5
SUMMARY_SCHEMA = "nb2prod.pipeline-run/1"


class Namespace(dict):
    """The names the steps produced; ``summary`` is the run summary (also written to disk)."""

    summary = None  # type: Optional[Dict[str, Any]]


def configure_logging(level: int = logging.INFO) -> None:
    """Sends the pipeline's log to stderr with time and level (once per process)."""
    handler = next((h for h in log.handlers if getattr(h, "_nb2prod", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
        handler._nb2prod = True
        log.addHandler(handler)
    else:
        handler.setStream(sys.stderr)  # sys.stderr may have been replaced since (tests)
    log.setLevel(level)


# ---------------------------------------------------------------------------------------------
# Parameters

def parse_param_assignments(assignments: Sequence[str]) -> Dict[str, Any]:
    """["max_depth=12", "name=forest"] -> {"max_depth": 12, "name": "forest"}."""
    params = {}
    for text in assignments:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError("--param takes name=value (e.g. --param max_depth=12), not %r" % text)
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw  # not JSON: a plain string such as --param solver=lbfgs
    return params


def keyword_parameters(fn: Callable) -> List[str]:
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY]


def effective_params(config: Mapping[str, Any], steps: Sequence[Callable],
                     overrides: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """config "params" updated by *overrides*; an override nobody knows is a UsageError."""
    params = dict(config.get("params") or {})
    known = set(params)
    for fn in steps:
        known.update(keyword_parameters(fn))
    unknown = sorted(set(overrides or {}) - known)
    if unknown:
        raise UsageError("unknown parameter%s %s: the pipeline's parameters are %s"
                         % ("s" if len(unknown) > 1 else "", ", ".join(unknown),
                            ", ".join(sorted(known)) or "(none)"))
    params.update(overrides or {})
    return params


def check_environment(config: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> None:
    """The notebook's code reads these variables (config "environment" "required"): stop before
    anything runs, naming the ones that are not set."""
    spec = config.get("environment") or {}
    missing = [name for name in spec.get("required") or [] if not environ.get(name)]
    if missing:
        raise UsageError("the notebook's code reads %s from the environment (os.environ[...]), and %s "
                         "not set: set %s, then run again"
                         % (", ".join(missing), "it is" if len(missing) == 1 else "they are",
                            " and ".join(missing)))


# ---------------------------------------------------------------------------------------------
# One step

def describe(value: Any) -> str:
    """What a value is, for the log: type and shape, never the content."""
    shape = getattr(value, "shape", None)
    kind = type(value).__name__
    if isinstance(shape, tuple):
        if kind == "DataFrame":
            return "DataFrame %d rows x %d columns" % shape
        dtype = getattr(value, "dtype", None)
        return "%s %s%s" % (kind, "x".join(str(n) for n in shape) or "scalar",
                            " (%s)" % dtype if dtype is not None else "")
    if isinstance(value, (list, tuple, dict, set)):
        return "%s of %d" % (kind, len(value))
    return kind


def _arguments(fn: Callable, info: StepInfo, namespace: Mapping[str, Any],
               params: Mapping[str, Any]):
    args, kwargs = [], {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if p.name in namespace:
                args.append(namespace[p.name])
            elif p.default is not p.empty:
                args.append(p.default)
            else:
                raise PipelineError(
                    "step %r needs %r, which no earlier step produced (available: %s): check the "
                    "outputs=[...] of the earlier steps in pipeline/steps.py"
                    % (info.name, p.name, ", ".join(sorted(namespace)) or "nothing yet"), info.name)
        elif p.kind is p.KEYWORD_ONLY:
            if p.name in params:
                kwargs[p.name] = params[p.name]
            elif p.default is p.empty:
                raise PipelineError(
                    "step %r needs the parameter %r: add it to \"params\" in pipeline/config.json "
                    "or pass --param %s=VALUE" % (info.name, p.name, p.name), info.name)
    return args, kwargs


def _bind_outputs(info: StepInfo, result: Any, namespace: Dict[str, Any]) -> None:
    if not info.outputs:
        return
    if len(info.outputs) == 1:
        namespace[info.outputs[0]] = result
        return
    if not isinstance(result, (tuple, list)) or len(result) != len(info.outputs):
        got = "%d values" % len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise PipelineError("step %r declares outputs %s but returned %s: return a tuple in that order"
                            % (info.name, list(info.outputs), got), info.name)
    for name, value in zip(info.outputs, result):
        namespace[name] = value


def run_step(fn: Callable, namespace: Dict[str, Any], params: Mapping[str, Any],
             retries: Optional[int] = None, backoff_base: float = DEFAULT_BACKOFF_SECONDS,
             sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Runs one step (with its retries), binds its outputs; returns its summary entry.

    Raises PipelineError naming the step when it fails for good.
    """
    info = step_info(fn)
    attempts_allowed = 1 + (info.retries if retries is None else retries)
    args, kwargs = _arguments(fn, info, namespace, params)
    started = time.monotonic()
    for attempt in range(1, attempts_allowed + 1):
        try:
            result = fn(*args, **kwargs)
            break
        except Exception as error:  # a step may fail in any way; KeyboardInterrupt still stops
            if attempt == attempts_allowed:
                log.error("step %s failed (attempt %d of %d): %s: %s\n%s", info.name, attempt,
                          attempts_allowed, type(error).__name__, error, traceback.format_exc().rstrip())
                failure = PipelineError("%s: %s" % (type(error).__name__, error), info.name)
                failure.attempts = attempt
                raise failure from error
            delay = backoff_base * 2 ** (attempt - 1)
            log.warning("step %s: attempt %d of %d failed: %s: %s; retrying in %.3g s", info.name,
                        attempt, attempts_allowed, type(error).__name__, error, delay)
            sleep(delay)
    _bind_outputs(info, result, namespace)
    duration = time.monotonic() - started
    outputs = {name: describe(namespace[name]) for name in info.outputs}
    log.info("step %s done in %.2f s%s%s", info.name, duration,
             " after %d attempts" % attempt if attempt > 1 else "",
             "; outputs: " + ", ".join("%s = %s" % kv for kv in outputs.items()) if outputs else "")
    return {"name": info.name, "status": "succeeded", "duration_s": round(duration, 3),
            "attempts": attempt, "outputs": outputs, "error": None}


# ---------------------------------------------------------------------------------------------
# The whole pipeline

def load_steps() -> List[Callable]:
    try:
        module = importlib.import_module("pipeline.steps")
    except Exception as error:  # an import failure is a setup problem, not a failed step
        log.error("pipeline/steps.py cannot be imported:\n%s", traceback.format_exc().rstrip())
        raise UsageError("pipeline/steps.py cannot be imported (%s: %s): install the packages of "
                         "requirements.txt and run from the project root"
                         % (type(error).__name__, error))
    steps = getattr(module, "STEPS", None)
    if not isinstance(steps, (list, tuple)) or not steps:
        raise UsageError("pipeline/steps.py must define STEPS, the list of its steps in order")
    return list(steps)



def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _tracked_store() -> Optional[str]:
    """The nb2prod store of the run tracking this process (its events file is in <store>/tmp/<id>/)."""
    events = os.environ.get("NB2PROD_EVENTS")
    if not events:
        return None
    run_dir = Path(events).resolve().parent
    return str(run_dir.parent.parent) if run_dir.parent.name == "tmp" else None


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _log_params_to_tracker(params: Mapping[str, Any]) -> None:
    if not os.environ.get("NB2PROD_EVENTS"):
        return
    try:
        import nb2prod
    except ImportError:
        return
    if params:
        nb2prod.log_params(dict(params))


def _model_output(config: Mapping[str, Any], workdir: Path) -> Optional[Dict[str, Any]]:
    relative = os.environ.get("NB2PROD_MODEL_OUTPUT") or config.get("model_output")
    if not relative:
        return None
    path = (workdir / relative).resolve()
    exists = path.is_file()
    return {"path": relative, "absolute": str(path), "exists": exists,
            "sha256": _sha256(path) if exists else None}


def _write_summary(summary: Dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2)
        fh.write("\n")
    os.replace(temporary, path)


def run_pipeline(until: Optional[str] = None, params: Optional[Mapping[str, Any]] = None,
                 retries: Optional[int] = None, backoff_base: Optional[float] = None,
                 steps: Optional[Sequence[Callable]] = None,
                 write_summary: Optional[bool] = None) -> Namespace:
    """Runs the pipeline (up to and including step *until*); returns the namespace.

    *params* override config "params"; *retries* overrides every step's retries; *steps*
    replaces pipeline.steps.STEPS (tests). The run summary is written for full runs (or as
    *write_summary* says) so a partial run never replaces the record of the last training run.
    Raises PipelineError (a step failed) or UsageError (wrong call or configuration).
    """
    root = settings.PROJECT_ROOT
    config = settings.load_config(root)
    service_config = settings.load_service_config(root)
    workdir = settings.workdir(config, root)
    state = settings.state_dir(root)  # resolved before the chdir: a relative override is the caller's
    if backoff_base is None:
        backoff_base = float(os.environ.get("NB2PROD_RETRY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS))
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
        raise UsageError("retries must be an integer >= 0, not %r" % (retries,))
    if write_summary is None:
        write_summary = until is None
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    previous_cwd = os.getcwd()  # where the command was started: nb2prod run found its store from here
    os.chdir(workdir)
    try:
        if steps is None:
            steps = load_steps()
        infos = [step_info(fn) for fn in steps]
        names = [info.name for info in infos]
        if until is not None and until not in names:
            raise UsageError("--until %r is not a step; the steps are %s" % (until, ", ".join(names)))
        check_environment(config)
        used_params = effective_params(config, steps, params)
        return _run(config, service_config, root, workdir, state, steps, infos, until,
                    used_params, retries, backoff_base, write_summary, previous_cwd)
    finally:
        os.chdir(previous_cwd)


def _run(config, service_config, root, workdir, state, steps, infos, until, params, retries,
         backoff_base, write_summary, started_in) -> Namespace:
    from pipeline.evaluate import evaluate
    from pipeline.validation import validate_after

    started_at, started = _now(), time.monotonic()
    run_id = os.environ.get("NB2PROD_RUN_ID") or None
    log.info("pipeline %s: %d steps%s in %s%s", config.get("name", ""), len(steps),
             " up to %s" % until if until else "", workdir,
             " (nb2prod run %s)" % run_id if run_id else "")
    log.info("parameters: %s", ", ".join("%s=%r" % kv for kv in sorted(params.items())) or "none")
    _log_params_to_tracker(params)

    namespace = Namespace()
    step_entries = [{"name": info.name, "status": "not run", "duration_s": None, "attempts": 0,
                     "outputs": {}, "error": None} for info in infos]
    quarantine = []  # type: List[Dict[str, Any]]
    evaluation = {"metrics": None, "task": None, "skipped": "the pipeline did not reach evaluation"}
    failure = None  # type: Optional[PipelineError]
    for index, (fn, info) in enumerate(zip(steps, infos)):
        log.info("step %d of %d: %s", index + 1, len(steps), info.name)
        try:
            entry = run_step(fn, namespace, params, retries, backoff_base)
            step_entries[index] = entry
            quarantine.extend(validate_after(info.name, namespace, config, state / "quarantine", root))
        except PipelineError as error:
            failure = error if error.step else PipelineError(str(error), info.name)
            step_entries[index].update(status="failed", error=str(error),
                                       attempts=error.attempts or step_entries[index]["attempts"])
            break
        if info.name == until:
            break

    if failure is None and until is None:
        try:
            evaluation = evaluate(config, namespace, service_config, state / "reports")
        except Exception as error:  # a model that cannot predict on its own held-out set
            log.error("evaluation failed: %s: %s\n%s", type(error).__name__, error, traceback.format_exc().rstrip())
            failure = PipelineError("evaluation failed: %s: %s" % (type(error).__name__, error), "evaluation")
    elif until is not None:
        evaluation["skipped"] = "partial run (up to step %s)" % until

    duration = time.monotonic() - started
    summary = {
        "schema": SUMMARY_SCHEMA,
        "name": config.get("name"),
        "status": "failed" if failure else ("succeeded" if until is None else "partial"),
        "failed_step": failure.step if failure else None,
        "error": str(failure) if failure else None,
        "started_at": started_at,
        "ended_at": _now(),
        "duration_s": round(duration, 3),
        "run_id": run_id,
        "store": _tracked_store(),
        "started_in": started_in,
        "workdir": str(workdir),
        "until": until,
        "params": {k: _json_safe(v) for k, v in params.items()},
        "steps": step_entries,
        "quarantine": quarantine,
        "task": evaluation["task"],
        "metrics": evaluation["metrics"],
        "evaluation_skipped": evaluation["skipped"],
        "model_output": _model_output(config, workdir),
    }
    namespace.summary = summary
    if write_summary:
        path = state / "reports" / "pipeline-run.json"
        _write_summary(summary, path)
        log.info("run summary: %s", settings.shown(path, root))
    if failure:
        raise failure
    model = summary["model_output"]
    log.info("pipeline %s %s in %.1f s%s", config.get("name", ""),
             "finished" if until is None else "stopped after step %s" % until, duration,
             "; model: %s (sha256 %s)" % (model["path"], model["sha256"][:12])
             if until is None and model and model["sha256"] else "")
    return namespace


# ---------------------------------------------------------------------------------------------
# Command line

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Run the training pipeline generated by nb2prod from the notebook. Track it "
                    "with: nb2prod run --tag pipeline -- python -m pipeline",
        epilog="Exit codes: 0 success, 1 a step failed, 2 a usage or configuration error.")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a parameter of pipeline/config.json (value as JSON, else "
                             "a string); repeatable")
    parser.add_argument("--until", metavar="STEP", help="stop after this step (no evaluation, "
                        "no run summary)")
    parser.add_argument("--retries", type=int, metavar="N",
                        help="retry every failing step up to N times (default: each step's own)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on malformed options
    configure_logging()
    try:
        if args.retries is not None and args.retries < 0:
            raise UsageError("--retries must be 0 or more")
        run_pipeline(until=args.until, params=parse_param_assignments(args.param), retries=args.retries)
    except UsageError as error:
        print("python -m pipeline: %s" % error, file=sys.stderr)
        return 2
    except PipelineError as error:
        print("python -m pipeline: failed at step %r: %s" % (error.step, error), file=sys.stderr)
        return 1
    return 0
