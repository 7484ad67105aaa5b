"""``python -m pipeline.register [--to staging]``: registers the model of the last tracked
pipeline run in nb2prod's local registry and asks for its promotion through the gate.

The model must come from a run nb2prod recorded, so the registry knows its data, parameters,
metrics and code. The flow is:

    nb2prod run --tag pipeline -- python -m pipeline     # or: make train
    python -m pipeline.register                          # or: make register

The run writes its nb2prod run id into var/reports/pipeline-run.json; this command reads it and
calls the nb2prod CLI (``NB2PROD_CLI``, e.g. "node /path/to/nb2prod/dist/cli.js", else
``nb2prod`` on PATH) in the directory the run was started from (so it finds the same store and
nb2prod.toml), with the run's store named explicitly:

    nb2prod registry register <model> <run-id> --file <model file> --json
    nb2prod registry promote <model> <version> --to staging --json

The promotion applies the gate and approvals configured in the workspace's nb2prod.toml
([registry]); a refusal is printed with the failed checks and exits 1. Exit 2: nothing to
register yet, or nb2prod cannot be found (the message says what to run).
"""
import argparse
import datetime as _dt
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from pipeline import settings
from pipeline.framework import UsageError
from common.hashing import file_sha256 as _sha256

TRAIN_COMMAND = "nb2prod run --tag pipeline -- python -m pipeline"
REGISTER_COMMAND = "python -m pipeline.register"


class Refused(Exception):
    """nb2prod answered with a failure; ``code`` is its exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def nb2prod_command() -> List[str]:
    """The command that runs the nb2prod CLI, from NB2PROD_CLI or PATH."""
    configured = os.environ.get("NB2PROD_CLI", "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("nb2prod")
    if found:
        return [found]
    raise UsageError(
        "the nb2prod command was not found: put nb2prod on PATH, or set NB2PROD_CLI to the "
        "command that runs it (e.g. NB2PROD_CLI=\"node /path/to/nb2prod/dist/cli.js\"), then run "
        "%s" % REGISTER_COMMAND)


def read_last_run(root: Path = settings.PROJECT_ROOT) -> Dict[str, Any]:
    """The summary of the last full pipeline run, checked to be a tracked, successful one."""
    path = settings.run_summary_path(root)
    again = "Run `%s` (make train), then `%s`." % (TRAIN_COMMAND, REGISTER_COMMAND)
    if not path.is_file():
        raise UsageError("no pipeline run to register: %s does not exist. %s"
                         % (settings.shown(path, root), again))
    with open(path, "r", encoding="utf-8") as fh:
        summary = json.load(fh)
    if summary.get("status") != "succeeded":
        raise UsageError("the last pipeline run (%s) %s: its model is not registered. Fix it and %s"
                         % (summary.get("started_at"),
                            "failed at step %r: %s" % (summary.get("failed_step"), summary.get("error"))
                            if summary.get("status") == "failed" else "did not finish",
                            again[0].lower() + again[1:]))
    if not summary.get("run_id"):
        raise UsageError("the last pipeline run (%s) was not tracked by nb2prod (it has no run id), so "
                         "the registry cannot record where the model came from. %s"
                         % (summary.get("started_at"), again))
    return summary



def call_cli(cli: Sequence[str], args: Sequence[str], cwd: Path,
             accept: Tuple[int, ...] = (0,)) -> Tuple[int, Dict[str, Any], str]:
    """Runs `<cli> <args> --json` in *cwd*; returns (exit code, parsed JSON, stderr)."""
    command = list(cli) + list(args) + ["--json"]
    try:
        proc = subprocess.run(command, cwd=str(cwd), capture_output=True, text=True, timeout=600)
    except OSError as error:
        raise UsageError("cannot run %s: %s (check NB2PROD_CLI or PATH)" % (shlex.join(command), error))
    if proc.returncode not in accept:
        detail = (proc.stderr or proc.stdout).strip()
        raise Refused("`%s` failed (exit %d): %s" % (shlex.join(command), proc.returncode, detail),
                      proc.returncode if proc.returncode in (1, 2) else 1)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise Refused("`%s` did not print JSON: %s" % (shlex.join(command), proc.stdout[:500]), 1)
    return proc.returncode, data, proc.stderr


def already_registered(cli: Sequence[str], cwd: Path, store: List[str], name: str,
                       summary: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The version of *name* registered from this run with this model file, if any (re-runs of
    this command must not add a version per call)."""
    _, listed, _ = call_cli(cli, ["registry", "list"] + store, cwd)
    sha256 = (summary.get("model_output") or {}).get("sha256")
    for model in listed.get("models", []):
        if model.get("name") != name:
            continue
        for version in model.get("versions", []):
            if version.get("run") == summary["run_id"] and (
                    sha256 is None or version.get("file", {}).get("sha256") == sha256):
                return version
    return None


def register(alias: str = "staging", note: Optional[str] = None,
             root: Path = settings.PROJECT_ROOT) -> Dict[str, Any]:
    """Registers the last run's model (once: a version of the same run and file is reused) and
    promotes it; returns the report written to var/reports/registration.json.

    Raises UsageError (nothing to register, no CLI) or Refused (the registry said no).
    """
    config = settings.load_config(root)
    service_config = settings.load_service_config(root) or {}
    summary = read_last_run(root)
    cli = nb2prod_command()
    name = (service_config.get("model") or {}).get("name") or config.get("name")
    if not name:
        raise UsageError('neither service/config.json "model.name" nor pipeline/config.json "name" '
                         "names the model")
    # Run nb2prod where the tracked run was started (it found its store and nb2prod.toml from
    # there), else in the notebook's directory; name the run's store explicitly when known.
    cwd = next((Path(p) for p in (summary.get("started_in"), summary.get("workdir")) if p and Path(p).is_dir()),
               None) or settings.workdir(config, root)
    store = ["--store", summary["store"]] if summary.get("store") else []
    if store and not Path(summary["store"]).is_dir():
        raise UsageError("the nb2prod store of run %s (%s) is gone" % (summary["run_id"], summary["store"]))

    file_args = []  # type: List[str]
    warnings = []  # type: List[str]
    model_output = summary.get("model_output") or {}
    if model_output.get("absolute") and Path(model_output["absolute"]).is_file():
        model_file = Path(model_output["absolute"])
        file_args = ["--file", str(model_file)]
        if model_output.get("sha256") and _sha256(model_file) != model_output["sha256"]:
            warnings.append("%s changed after run %s wrote it: the registered file is not the run's model"
                            % (model_output["path"], summary["run_id"]))

    version = already_registered(cli, cwd, store, name, summary)
    reused = version is not None
    if not reused:
        register_args = ["registry", "register", name, summary["run_id"]] + file_args + store
        register_args += ["--note", note or "pipeline run %s" % summary["run_id"]]
        _, registered, _ = call_cli(cli, register_args, cwd)
        version = registered["version"]
        warnings.extend(registered.get("warnings") or [])

    promote_args = ["registry", "promote", name, str(version["version"]), "--to", alias,
                    "--reason", "trained by the pipeline in run %s" % summary["run_id"]] + store
    code, promotion, _ = call_cli(cli, promote_args, cwd, accept=(0, 1))
    warnings.extend(promotion.get("warnings") or [])

    report = {
        "schema": "nb2prod.pipeline-registration/1",
        "registered_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "model": name,
        "version": version["version"],
        "run_id": summary["run_id"],
        "reused": reused,
        "file": version.get("file", {}).get("path"),
        "sha256": version.get("file", {}).get("sha256"),
        "alias": alias,
        "promoted": bool(promotion.get("promoted")) and code == 0,
        "checks": promotion.get("checks", []),
        "failed": promotion.get("failed", []),
        "warnings": warnings,
    }
    path = settings.reports_dir(root) / "registration.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
        fh.write("\n")
    return report


def _print_report(report: Dict[str, Any]) -> None:
    for warning in report["warnings"]:
        print("warning: %s" % warning, file=sys.stderr)
    print("%s %s v%s from nb2prod run %s (%s, sha256 %s...)."
          % ("Already registered as" if report["reused"] else "Registered", report["model"],
             report["version"], report["run_id"], report["file"], (report["sha256"] or "")[:12]))
    for check in report["checks"]:
        print("  %-4s  %s  %s" % (check.get("status", "").upper(), check.get("name"), check.get("detail", "")))
    if report["promoted"]:
        print("Promoted: %s %s is v%s." % (report["model"], report["alias"], report["version"]))
    else:
        failed = report["failed"]
        approvals = any("approval" in name or "separation" in name for name in failed)
        print("Refused: %s v%s was not promoted to %s; failed check%s: %s. The gate and approvals "
              "are set in nb2prod.toml [registry]%s; or override with `nb2prod registry promote %s %s "
              "--to %s --override \"why\"` (recorded)."
              % (report["model"], report["version"], report["alias"], "s" if len(failed) > 1 else "",
                 ", ".join(failed) or "(none)",
                 "; record a sign-off with `nb2prod registry approve %s %s --role ROLE`"
                 % (report["model"], report["version"]) if approvals else "",
                 report["model"], report["version"], report["alias"]))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.register",
        description="Register the model of the last tracked pipeline run in nb2prod's registry "
                    "and promote it through the gate of nb2prod.toml.",
        epilog="Exit codes: 0 registered and promoted, 1 promotion refused or nb2prod failed, "
               "2 nothing to register or nb2prod not found.")
    parser.add_argument("--to", default="staging", metavar="ALIAS",
                        help="the alias to promote the new version to (default: staging)")
    parser.add_argument("--note", help="a note recorded with the version")
    args = parser.parse_args(argv)
    try:
        report = register(alias=args.to, note=args.note)
    except UsageError as error:
        print("python -m pipeline.register: %s" % error, file=sys.stderr)
        return 2
    except Refused as error:
        print("python -m pipeline.register: %s" % error, file=sys.stderr)
        return error.code
    _print_report(report)
    return 0 if report["promoted"] else 1


if __name__ == "__main__":
    sys.exit(main())
