# -*- coding: utf-8 -*-
"""nb2prod notebook runner.

    python nb2prod_runner.py --notebook NB.ipynb --output EXECUTED.ipynb
        [--params-json JSON] [--cwd DIR] [--kernel python3] [--cell-timeout SECONDS]

Executes a notebook with nbclient in a fresh kernel, cell by cell, and prints
progress as JSON lines on stdout (one object per line, flushed):

    {"type":"params","values":{...},"sources":{name:"notebook"|"override"}}
    {"type":"warning","message":...}
    {"type":"started","cells":N,"kernel":"python3"[,"injectedIndex":X]}
    {"type":"cell_started","index":I,"position":K,"total":N,"executedIndex":X}
    {"type":"cell_finished","index":I,"status":"succeeded"|"failed"|"skipped","durationMs":F}
    {"type":"cell_failed","index":I,"ename":...,"evalue":...,"traceback":"..."}
    {"type":"finished","status":"succeeded"|"failed"|"cancelled"|"interrupted","executed":PATH}
    {"type":"error","message":...}

Usage errors and an unreadable notebook print an error and exit 2.  When the
kernel cannot start (unknown kernel, no ipykernel, it dies while starting)
the runner prints an error and exits 1 without "started" or "finished":
there was no run.

Cell indices I are positions in the user's notebook (--notebook), N and K
count its code cells.  Parameter overrides are injected, as papermill does,
as a new cell tagged "injected-parameters" right after the cell tagged
"parameters" (at the top when there is none); that cell exists only in the
executed notebook (--output), where X = executedIndex is each cell's position.
The injected cell gets no cell_started/cell_finished; if it fails, its
cell_failed has "index": null and "injected": true.  Cells after a failure
are not run and get no events.  "skipped" is a cell tagged "skip-execution".
The kernel locations "cell I, line L" and $NB2PROD_CELLS use the same I.

Each code cell of the executed notebook gets metadata.nb2prod: {"index": I}
(its index in the user's notebook), or {"injected": true}.
Values listed in $NB2PROD_REDACT (secrets of the run) are replaced by ***
in the executed notebook before it is written.

Exit codes: 0 success, 1 failed cell / dead kernel, 2 usage or unreadable
notebook, 130 cancelled (SIGTERM or SIGINT).
"""
import os
import sys

# The runner itself is not part of the run: stop any capture in this process
# (sitecustomize may have installed it) before importing anything else.
_cap = sys.modules.get("nb2prod._capture")
if _cap is not None:
    try:
        _cap.disable()
    except Exception:
        pass
del _cap

import argparse  # noqa: E402
import ast  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import keyword  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP_CODE = "__import__('nb2prod._capture')._capture.kernel_ready()"
TEARDOWN_CODE = "__import__('nb2prod._capture')._capture.flush_environment()"
# After the last cell of a run that succeeded: the fitted estimators the notebook's globals
# hold go to the store (nb2prod/_fitted.py).
KEEP_FITTED_CODE = "__import__('nb2prod._capture')._capture.keep_fitted()"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------
def _safe(v):
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, dict):
        return {str(k): _safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_safe(x) for x in v]
    return repr(v)


def out(obj):
    sys.stdout.write(json.dumps(_safe(obj), allow_nan=False) + "\n")
    sys.stdout.flush()


def fail_usage(message):
    out({"type": "error", "message": message})
    sys.exit(2)


# --------------------------------------------------------------------------
# parameters (papermill style)
# --------------------------------------------------------------------------
def _tags(cell):
    tags = cell.get("metadata", {}).get("tags") or []
    return tags if isinstance(tags, list) else []


def find_parameters_cell(nb):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in _tags(cell):
            return i
    return None


def parse_parameters(source):
    """{name: value} of the simple ``name = <literal>`` assignments."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # IPython magics or shell escapes: drop those lines and retry
        lines = [("" if l.lstrip().startswith(("%", "!")) else l) for l in source.splitlines()]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            return {}
    values = {}
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        if target is None:
            continue
        try:
            values[target] = ast.literal_eval(value)
        except Exception:
            continue
    return values


def py_literal(v):
    """Python source for a JSON value (NaN and infinities included)."""
    if isinstance(v, float):
        if v != v:
            return "float('nan')"
        if v == float("inf"):
            return "float('inf')"
        if v == float("-inf"):
            return "float('-inf')"
        return repr(v)
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (py_literal(k), py_literal(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(py_literal(x) for x in v) + "]"
    return repr(v)


def inject_parameters(nb, overrides, nbformat):
    """Insert the injected-parameters cell; returns (its index, parameters cell index).

    It goes right after the cell tagged "parameters" (at the top when there is
    none), or after the injected-parameters cells already there (a notebook
    executed by papermill before), which are kept so that the cell indices
    stay those of the user's notebook.
    """
    pidx = find_parameters_cell(nb)
    at = 0 if pidx is None else pidx + 1
    while at < len(nb.cells) and "injected-parameters" in _tags(nb.cells[at]):
        at += 1
    src = "# Parameters\n" + "".join("%s = %s\n" % (k, py_literal(v)) for k, v in overrides.items())
    cell = nbformat.v4.new_code_cell(source=src)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at, cell)
    return at, pidx


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(prog="nb2prod_runner", add_help=True)
    p.add_argument("--notebook", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--params-json", default=None)
    p.add_argument("--cwd", default=None)
    p.add_argument("--kernel", default="python3")
    p.add_argument("--cell-timeout", type=float, default=None)

    def error(message):
        fail_usage("usage: " + message)

    p.error = error
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import nbformat
        import nbclient  # noqa: F401
    except ImportError as e:
        out({"type": "error", "message": "this Python cannot run notebooks (%s): it needs "
             "nbclient, nbformat and ipykernel" % e})
        return 1

    nb_path = os.path.abspath(args.notebook)
    out_path = os.path.abspath(args.output)
    try:
        nb = nbformat.read(nb_path, as_version=4)
        if not hasattr(nb, "cells"):
            raise ValueError("not a notebook")
    except Exception as e:
        fail_usage("cannot read notebook %s: %s" % (nb_path, e))

    overrides = {}
    if args.params_json:
        try:
            overrides = json.loads(args.params_json)
        except Exception as e:
            fail_usage("--params-json is not valid JSON: %s" % e)
        if not isinstance(overrides, dict):
            fail_usage("--params-json must be a JSON object")
        for k in overrides:
            if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k):
                fail_usage("invalid parameter name: %r" % (k,))

    cwd = os.path.abspath(args.cwd) if args.cwd else os.path.dirname(nb_path)
    if not os.path.isdir(cwd):
        fail_usage("--cwd is not a directory: %s" % cwd)

    # parameters
    pidx = find_parameters_cell(nb)
    values = parse_parameters(nb.cells[pidx].source) if pidx is not None else {}
    for cell in nb.cells:  # values injected by an earlier papermill run
        if cell.cell_type == "code" and "injected-parameters" in _tags(cell):
            values.update(parse_parameters(cell.source))
    sources = {k: "notebook" for k in values}
    injected_at = None
    warnings = []
    if overrides:
        injected_at, pidx = inject_parameters(nb, overrides, nbformat)
        if pidx is None:
            warnings.append("the notebook has no cell tagged 'parameters': "
                            "parameters injected at the top")
        for k, v in overrides.items():
            if k not in values:
                warnings.append("parameter %r is not defined in the parameters cell" % k)
            values[k] = v
            sources[k] = "override"
    out({"type": "params", "values": values, "sources": sources})
    for w in warnings:
        out({"type": "warning", "message": w})

    # kernel environment
    env = os.environ
    pp = env.get("PYTHONPATH", "")
    parts = [p for p in pp.split(os.pathsep) if p]
    if not parts or os.path.abspath(parts[0]) != HERE:
        parts = [HERE] + [p for p in parts if os.path.abspath(p) != HERE]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # The kernel starts in a session of its own (jupyter_client): it watches this
    # process and kills its session when the runner is gone (nb2prod_lifeline).
    env["NB2PROD_WATCH_PID"] = str(os.getpid())
    temp_cells = None
    if env.get("NB2PROD_EVENTS"):
        env["NB2PROD_EVENTS"] = os.path.abspath(env["NB2PROD_EVENTS"])
        cells_path = env.get("NB2PROD_CELLS")
        if not cells_path:
            fd, cells_path = tempfile.mkstemp(prefix="nb2prod-cells-", suffix=".json")
            os.close(fd)
            temp_cells = cells_path
        cells_path = os.path.abspath(cells_path)
        env["NB2PROD_CELLS"] = cells_path
        cells = [{"index": source_index(i, injected_at),
                  "sha256": hashlib.sha256(c.source.encode("utf-8")).hexdigest()}
                 for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and i != injected_at]
        try:
            with open(cells_path, "w", encoding="utf-8") as fh:
                json.dump(cells, fh)
        except OSError as e:
            out({"type": "warning", "message": "cannot write %s: %s (locations will say "
                 "'cell ?')" % (cells_path, e)})

    timeout = None
    if args.cell_timeout and args.cell_timeout > 0:
        timeout = int(math.ceil(args.cell_timeout))

    try:
        code, status = asyncio.run(run_notebook(nb, args.kernel, cwd, timeout, injected_at))
    finally:
        if temp_cells:
            try:
                os.unlink(temp_cells)
            except OSError:
                pass
    try:
        d = os.path.dirname(out_path)
        if d:
            os.makedirs(d, exist_ok=True)
        # The executed notebook is kept in the store: no secret of the run in it (its
        # outputs, a traceback, the injected parameters), see nb2prod_redact.py.
        redactor = _redactor()
        if redactor:
            redactor.deep(nb)
        mark_cells(nb, injected_at)
        nbformat.write(nb, out_path)
    except Exception as e:
        out({"type": "error", "message": "cannot write %s: %s" % (out_path, e)})
        if code == 0:
            code, status = 1, "failed"
    if status is not None:
        out({"type": "finished", "status": status, "executed": out_path})
    return code


def _redactor():
    """The run's redactor (nb2prod_redact.py beside this file)."""
    if not os.environ.get("NB2PROD_REDACT"):
        return None
    sys.path.insert(0, HERE)
    try:
        import nb2prod_redact
    finally:
        sys.path.remove(HERE)
    return nb2prod_redact.from_environment()


def mark_cells(nb, injected_at):
    """Tell in the executed notebook which user cell each code cell is
    (replay compares outputs cell by cell): metadata.nb2prod = {"index": I},
    or {"injected": true} for the injected-parameters cell."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        index = source_index(i, injected_at)
        cell.metadata["nb2prod"] = {"injected": True} if index is None else {"index": index}


def source_index(i, injected_at):
    """Index in the user's notebook of cell *i* of the executed notebook
    (None for the injected-parameters cell)."""
    if injected_at is None or i < injected_at:
        return i
    if i == injected_at:
        return None
    return i - 1


def _strip_ansi(s):
    return _ANSI.sub("", s)


async def _silent(client, code):
    """Run code in the kernel without a trace in the notebook; True when ok."""
    from nbclient.util import ensure_async
    msg_id = await ensure_async(client.kc.execute(code, silent=True, store_history=False,
                                                  allow_stdin=False, stop_on_error=False))
    reply = await client.async_wait_for_reply(msg_id)
    if reply is None:
        return False
    content = reply.get("content", {})
    if content.get("status") != "ok":
        out({"type": "warning", "message": "nb2prod kernel %s failed: %s: %s"
             % ("setup" if "kernel_ready" in code else "keep-fitted" if "keep_fitted" in code else "teardown",
                content.get("ename"), content.get("evalue"))})
        return False
    return True


def _finished(index, status, t0):
    """cell_finished for a notebook cell (nothing for the injected cell)."""
    if index is None:
        return
    ms = (time.monotonic() - t0) * 1000.0 if t0 is not None else 0.0
    out({"type": "cell_finished", "index": index, "status": status, "durationMs": ms})


def _failed(index, ename, evalue, traceback):
    ev = {"type": "cell_failed", "index": index, "ename": ename, "evalue": evalue,
          "traceback": traceback}
    if index is None:
        ev["injected"] = True  # the injected-parameters cell failed
    out(ev)


async def run_notebook(nb, kernel_name, cwd, timeout, injected_at):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbclient.util import ensure_async

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    state = {"cancelled": False}

    def on_signal(signum):
        if state["cancelled"]:
            return
        state["cancelled"] = True
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (RuntimeError, NotImplementedError, ValueError):
            pass

    client = NotebookClient(nb, kernel_name=kernel_name, resources={"metadata": {"path": cwd}},
                            timeout=timeout, allow_errors=False)
    errors = {}

    def on_cell_error(cell=None, cell_index=None, execute_reply=None, **_kw):
        if execute_reply is not None:
            errors[cell_index] = execute_reply.get("content", {})

    client.on_cell_error = on_cell_error

    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    total = len([i for i in code_cells if i != injected_at])
    status, code = "succeeded", 0
    kernel_busy = False  # a cell may still be running in the kernel
    current = None  # source index of the running cell (None: the injected cell)
    running = False
    t0 = None
    kernel_started = False
    ready = False  # "started" was printed
    try:
        try:
            client.km = client.create_kernel_manager()
            start_kw = {}
            try:
                start_kw["stdout"] = sys.stderr.fileno()  # keep our stdout for events
            except Exception:
                pass
            await client.async_start_new_kernel(**start_kw)
            kernel_started = True
            await client.async_start_new_kernel_client()
            msg_id = await ensure_async(client.kc.kernel_info())
            info = await client.async_wait_for_reply(msg_id)
            if info is not None and "language_info" in info.get("content", {}):
                nb.metadata["language_info"] = info["content"]["language_info"]
            await _silent(client, SETUP_CODE)
            started = {"type": "started", "cells": total, "kernel": kernel_name}
            if injected_at is not None:
                started["injectedIndex"] = injected_at
            out(started)
            ready = True
            position = 0
            for xindex in code_cells:
                cell = nb.cells[xindex]
                index = source_index(xindex, injected_at)  # None: the injected cell
                current, running = index, True
                if index is not None:
                    position += 1
                    out({"type": "cell_started", "index": index, "position": position,
                         "total": total, "executedIndex": xindex})
                t0 = time.monotonic()
                skipped = client.skip_cells_with_tag in _tags(cell) and bool(cell.source.strip())
                try:
                    await client.async_execute_cell(
                        cell, xindex, execution_count=client.code_cells_executed + 1)
                except CellTimeoutError as e:
                    _finished(index, "failed", t0)
                    _failed(index, "CellTimeoutError", "cell timed out after %s s" % timeout,
                            _strip_ansi(str(e)))
                    status, code = "failed", 1
                    kernel_busy = True
                    running = False
                    break
                except CellExecutionError as e:
                    content = errors.get(xindex, {})
                    tb = content.get("traceback")
                    tb = "\n".join(tb) if isinstance(tb, list) else str(e)
                    _finished(index, "failed", t0)
                    _failed(index, content.get("ename", getattr(e, "ename", "Error")),
                            content.get("evalue", getattr(e, "evalue", "")), _strip_ansi(tb))
                    status, code = "failed", 1
                    running = False
                    break
                _finished(index, "skipped" if skipped else "succeeded", t0)
                running = False
            if not kernel_busy:
                await _silent(client, TEARDOWN_CODE)
                if status == "succeeded":
                    await _silent(client, KEEP_FITTED_CODE)
            client.set_widgets_metadata()
        except (asyncio.CancelledError, DeadKernelError) as e:
            kernel_busy = True
            if state["cancelled"]:
                status, code = "cancelled", 130
            else:
                if isinstance(e, asyncio.CancelledError):
                    raise
                if not ready:
                    out({"type": "error", "message": "the kernel died while starting"})
                    status, code = None, 1
                else:
                    status, code = "interrupted", 1
                if running:
                    _finished(current, "failed", t0)
                    _failed(current, "DeadKernelError", "the kernel died", "")
        except Exception as e:
            kernel_busy = True
            if state["cancelled"]:
                status, code = "cancelled", 130
            else:
                out({"type": "error", "message": "%s: %s" % (type(e).__name__, _strip_ansi(str(e)))})
                # before "started": the kernel could not start, there is no run (no "finished")
                status, code = ("failed" if ready else None), 1
    finally:
        await _shutdown(client, kernel_started, interrupt=kernel_busy)
    if state["cancelled"] and code != 130:
        status, code = "cancelled", 130
    return code, status


async def _graceful_shutdown(client):
    """Shut an idle kernel down as nbclient does (shutdown request, wait, clean
    up), but watch for its exit every 10 ms instead of every 100 ms."""
    from nbclient.util import ensure_async
    km = client.km
    km.shutting_down = True
    try:
        km.stop_restarter()
    except Exception:
        pass
    await ensure_async(km.request_shutdown())
    await ensure_async(km.finish_shutdown(pollinterval=0.01))
    await ensure_async(km.cleanup_resources())
    if client.kc is not None:
        await ensure_async(client.kc.stop_channels())
        client.kc = None
    client.km = None


async def _shutdown(client, kernel_started, interrupt):
    from nbclient.util import ensure_async
    km = client.km
    if km is None:
        return
    try:
        if not interrupt and kernel_started and await ensure_async(km.is_alive()):
            try:
                await _graceful_shutdown(client)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if client.km is None:
                    return
        if interrupt and kernel_started:
            try:
                if await ensure_async(km.is_alive()):
                    await ensure_async(km.interrupt_kernel())
            except Exception:
                pass
            try:
                km.shutdown_wait_time = 2.0
            except Exception:
                pass
        await client._async_cleanup_kernel()
    except asyncio.CancelledError:
        # a signal during shutdown: kill the kernel right away
        try:
            await ensure_async(km.shutdown_kernel(now=True))
        except Exception:
            pass
    except Exception:
        try:
            await ensure_async(km.shutdown_kernel(now=True))
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main())
