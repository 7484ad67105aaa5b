"""Shared helpers for the tests of the Python capture companion.

Run with:  npm run test:python   (Debian's /usr/bin/python3, then the venv of current releases:
                                 scripts/test-python.sh)
     or:    PYTHON -m pytest test/python -q
The tests run everything they start (scripts, kernels, the CLI's tracking, generated projects)
with the interpreter running them, sys.executable.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURE_DIR = os.path.join(ROOT, "src", "core", "capture", "python")
RUNNER = os.path.join(CAPTURE_DIR, "nb2prod_runner.py")

if CAPTURE_DIR not in sys.path:
    sys.path.insert(0, CAPTURE_DIR)

# never let a developer's environment leak into the tests
for _var in ("NB2PROD_EVENTS", "NB2PROD_CELLS", "NB2PROD_ROOT_PID", "NB2PROD_WATCH_PID",
             "NB2PROD_RUN_ID", "NB2PROD_REDACT"):
    os.environ.pop(_var, None)


def read_events(path):
    events = []
    if not os.path.exists(path):
        return events
    with open(path, "r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                # strict JSON: NaN/Infinity must have been encoded as strings
                events.append(json.loads(line, parse_constant=_no_constants))
    return events


def _no_constants(name):
    raise AssertionError("non-strict JSON constant in events: %s" % name)


def of_type(events, kind):
    return [e for e in events if e["type"] == kind]


def base_env(events_path=None, extra_pythonpath=(), **extra):
    env = dict(os.environ)
    for var in ("NB2PROD_EVENTS", "NB2PROD_CELLS", "NB2PROD_ROOT_PID", "NB2PROD_WATCH_PID",
                "NB2PROD_RUN_ID", "NB2PROD_REDACT", "PYTHONPATH"):
        env.pop(var, None)
    env["PYTHONPATH"] = os.pathsep.join([CAPTURE_DIR] + list(extra_pythonpath))
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    if events_path is not None:
        env["NB2PROD_EVENTS"] = str(events_path)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class ScriptRun(object):
    def __init__(self, proc, events, cwd):
        self.proc = proc
        self.events = events
        self.cwd = cwd

    def of_type(self, kind):
        return of_type(self.events, kind)


@pytest.fixture
def run_script(tmp_path):
    """Write *code* to tmp_path/NAME and run it tracked; returns ScriptRun."""

    def run(code, name="train.py", tracked=True, extra_pythonpath=(), check=True, env=None,
            timeout=120):
        script = tmp_path / name
        script.write_text(textwrap.dedent(code), encoding="utf-8")
        events_path = tmp_path / "events.jsonl"
        e = base_env(events_path if tracked else None, extra_pythonpath, **(env or {}))
        proc = subprocess.run([sys.executable, name], cwd=str(tmp_path), env=e,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("script failed (%s)\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, proc.stdout, proc.stderr))
        return ScriptRun(proc, read_events(str(events_path)), tmp_path)

    return run
