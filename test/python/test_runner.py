"""The notebook runner (nb2prod_runner.py) with a real kernel."""
import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import RUNNER, base_env, of_type, read_events


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    out = []
    for c in cells:
        if isinstance(c, str):
            out.append(nbformat.v4.new_code_cell(c))
        else:
            kind, src, tags = c
            cell = (nbformat.v4.new_markdown_cell(src) if kind == "md"
                    else nbformat.v4.new_code_cell(src))
            if tags:
                cell.metadata["tags"] = tags
            out.append(cell)
    nb.cells = out
    nbformat.write(nb, str(path))
    return path


def _run(tmp_path, nb_path, *extra, tracked=True, timeout=120):
    events = tmp_path / "events.jsonl"
    output = tmp_path / "out" / "executed.ipynb"
    env = base_env(events if tracked else None)
    if tracked:
        env["NB2PROD_CELLS"] = str(tmp_path / "cells.json")
    proc = subprocess.run([sys.executable, RUNNER, "--notebook", str(nb_path),
                           "--output", str(output)] + list(extra),
                          cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    return proc, lines, read_events(str(events)), output


def test_parameters_override_cells_and_locations(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n1,x\n2,y\n3,x\n")
    nb = _notebook(tmp_path / "nb.ipynb", [
        ("md", "# Title", None),
        ("code", "alpha = 0.5\nn = 10\nname: str = 'a'\nitems = [1, 2]\nz = len(items)\n",
         ["parameters"]),
        "import numpy as np\nprint(alpha, n, extra)\nx = np.random.rand(3)",
        "import random\n\ndef draw():\n    return random.random()\n",
        "y = 1\ndraw()",
        "random.seed(7)",
        "import pandas as pd\ndf = pd.read_csv('data.csv')\ndf.shape",
    ])
    proc, out, ev, executed = _run(tmp_path, nb, "--params-json",
                                   json.dumps({"alpha": 0.9, "extra": "hi"}))
    assert proc.returncode == 0, proc.stderr
    types = [o["type"] for o in out]
    assert types[0] == "params"
    assert out[0]["values"] == {"alpha": 0.9, "n": 10, "name": "a", "items": [1, 2],
                                "extra": "hi"}
    assert out[0]["sources"] == {"alpha": "override", "n": "notebook", "name": "notebook",
                                 "items": "notebook", "extra": "override"}
    warnings = of_type(out, "warning")
    assert len(warnings) == 1 and "extra" in warnings[0]["message"]
    started = of_type(out, "started")[0]
    assert started["cells"] == 6 and started["kernel"] == "python3"
    assert started["injectedIndex"] == 2
    # indices are positions in the user's notebook; the injected cell has no cell events
    cs = of_type(out, "cell_started")
    assert [(c["index"], c["position"], c["total"]) for c in cs] == [
        (i, i, 6) for i in range(1, 7)]
    assert [c["executedIndex"] for c in cs] == [1, 3, 4, 5, 6, 7]
    cf = of_type(out, "cell_finished")
    assert [(c["index"], c["status"]) for c in cf] == [(i, "succeeded") for i in range(1, 7)]
    assert all(isinstance(c["durationMs"], float) for c in cf)
    # every cell_started comes before its cell_finished, in order
    seq = [(o["type"], o.get("index")) for o in out if o["type"].startswith("cell_")]
    assert seq == [(t, i) for i in range(1, 7) for t in ("cell_started", "cell_finished")]
    cells_file = json.loads((tmp_path / "cells.json").read_text())
    assert [c["index"] for c in cells_file] == [1, 2, 3, 4, 5, 6]
    assert out[-1] == {"type": "finished", "status": "succeeded", "executed": str(executed)}

    done = nbformat.read(str(executed), as_version=4)
    assert len(done.cells) == 8
    inj = done.cells[2]
    assert inj.metadata["tags"] == ["injected-parameters"]
    assert inj.source == "# Parameters\nalpha = 0.9\nextra = 'hi'\n"
    text = "".join(o.get("text", "") for o in done.cells[3].outputs)
    assert "0.9 10 hi" in text
    assert [c.execution_count for c in done.cells if c.cell_type == "code"] == list(range(1, 8))
    assert done.cells[7].outputs[0]["data"]["text/plain"] == "(3, 2)"
    # each code cell says which user cell it is (replay compares outputs cell by cell)
    assert [c.metadata.get("nb2prod") for c in done.cells] == [
        None, {"index": 1}, {"injected": True}, {"index": 2}, {"index": 3}, {"index": 4},
        {"index": 5}, {"index": 6}]

    un = of_type(ev, "unseeded")
    # the function defined in cell 3 and called from cell 4: the innermost frame is in cell 3
    assert [(u["call"], u["location"]) for u in un] == [
        ("numpy.random.rand", "cell 2, line 3"), ("random.random", "cell 3, line 4")]
    seeds = of_type(ev, "seed")
    assert [(s["library"], s["value"], s["location"]) for s in seeds] == [
        ("random", 7, "cell 5, line 1")]
    opens = of_type(ev, "open")
    assert [(o["path"], o["write"]) for o in opens] == [(str(tmp_path / "data.csv"), False)]
    prof = of_type(ev, "profile")
    assert prof[0]["path"] == str(tmp_path / "data.csv") and prof[0]["profile"]["rows"] == 3
    pk = of_type(ev, "packages")
    assert pk and pk[-1]["packages"]["numpy"] and pk[-1]["packages"]["pandas"]
    assert "ipykernel" not in pk[-1]["packages"]
    assert "ipykernel" in pk[-1]["runtimePackages"]
    assert len(of_type(ev, "python")) == 1
    assert not of_type(ev, "capture_error")
    # only the kernel writes events: the runner's own process is not tracked
    assert len({e["pid"] for e in ev}) == 1


def test_failing_cell_stops_the_run(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", [
        "print('one')",
        "x = 1\ny = x / 0",
        "print('never')",
    ])
    proc, out, ev, executed = _run(tmp_path, nb)
    assert proc.returncode == 1
    assert [c["index"] for c in of_type(out, "cell_started")] == [0, 1]
    assert [(c["index"], c["status"]) for c in of_type(out, "cell_finished")] == [
        (0, "succeeded"), (1, "failed")]
    failed = of_type(out, "cell_failed")
    assert len(failed) == 1 and failed[0]["index"] == 1
    assert failed[0]["ename"] == "ZeroDivisionError"
    assert "division by zero" in failed[0]["evalue"]
    assert "ZeroDivisionError" in failed[0]["traceback"]
    assert "\x1b[" not in failed[0]["traceback"]
    assert out[-1]["type"] == "finished" and out[-1]["status"] == "failed"
    done = nbformat.read(str(executed), as_version=4)
    assert done.cells[1].outputs[0]["output_type"] == "error"
    assert done.cells[2].outputs == [] and done.cells[2].execution_count is None
    # teardown still ran in the (idle) kernel
    assert of_type(ev, "packages")


def test_sigterm_cancels_a_long_cell(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", [
        "print('first')",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(60)",
        "print('never')",
    ])
    output = tmp_path / "out.ipynb"
    proc = subprocess.Popen([sys.executable, RUNNER, "--notebook", str(nb), "--output",
                             str(output)], cwd=str(tmp_path),
                            env=base_env(tmp_path / "events.jsonl"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(json.loads(line))
            if lines[-1]["type"] == "cell_started" and lines[-1]["index"] == 1:
                break
        time.sleep(0.7)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest, _err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += [json.loads(l) for l in rest.splitlines() if l.strip()]
    assert proc.returncode == 130
    assert elapsed < 6, elapsed
    assert lines[-1] == {"type": "finished", "status": "cancelled", "executed": str(output)}
    assert not [l for l in lines if l["type"] == "cell_started" and l["index"] == 2]
    done = nbformat.read(str(output), as_version=4)
    assert "first" in done.cells[0].outputs[0]["text"]
    assert "sleeping" in "".join(o.get("text", "") for o in done.cells[1].outputs)


def test_values_to_redact_are_not_in_the_executed_notebook(tmp_path):
    secret = "tok-5e6f7a8b9c"
    nb = _notebook(tmp_path / "nb.ipynb", [
        ("code", "api_key = ''", ["parameters"]),
        "print('key', api_key)\nfrom IPython.display import HTML\nHTML('<i>%s</i>' % api_key)",
        "raise ValueError('bad key ' + api_key)",
    ])
    events = tmp_path / "events.jsonl"
    output = tmp_path / "out.ipynb"
    env = base_env(events, NB2PROD_REDACT=json.dumps([secret]))
    proc = subprocess.run([sys.executable, RUNNER, "--notebook", str(nb), "--output", str(output),
                           "--params-json", json.dumps({"api_key": secret})],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    text = output.read_text()
    assert secret not in text
    done = nbformat.read(str(output), as_version=4)
    assert done.cells[1].source == "# Parameters\napi_key = '***'\n"
    assert "key ***" in "".join(o.get("text", "") for o in done.cells[2].outputs)
    assert done.cells[3].outputs[0]["evalue"] == "bad key ***"


def test_dead_kernel_is_interrupted(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", ["import os\nos._exit(3)", "print('never')"])
    proc, out, _ev, executed = _run(tmp_path, nb)
    assert proc.returncode == 1
    assert out[-1]["type"] == "finished" and out[-1]["status"] == "interrupted"
    assert of_type(out, "cell_failed")[0]["ename"] == "DeadKernelError"
    assert executed.exists()


def test_corrupt_notebook_and_bad_params(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ this is not json")
    proc, out, _ev, _x = _run(tmp_path, bad)
    assert proc.returncode == 2
    assert out[-1]["type"] == "error" and "bad.ipynb" in out[-1]["message"]
    nb = _notebook(tmp_path / "nb.ipynb", ["x = 1"])
    proc, out, _ev, _x = _run(tmp_path, nb, "--params-json", "[1, 2]")
    assert proc.returncode == 2 and out[-1]["type"] == "error"
    proc, out, _ev, _x = _run(tmp_path, nb, "--params-json", '{"1bad": 3}')
    assert proc.returncode == 2


def test_kernel_that_cannot_start(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", ["x = 1"])
    proc, out, _ev, _x = _run(tmp_path, nb, "--kernel", "no-such-kernel")
    assert proc.returncode == 1
    types = [o["type"] for o in out]
    assert "error" in types and "started" not in types and "finished" not in types


def test_no_parameters_cell_untracked_with_cwd(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "in.txt").write_text("hello")
    nb = _notebook(tmp_path / "nb.ipynb", ["print(open('in.txt').read(), lr)"])
    proc, out, ev, executed = _run(tmp_path, nb, "--params-json", '{"lr": 0.01}',
                                   "--cwd", str(work), tracked=False)
    assert proc.returncode == 0, proc.stderr
    assert of_type(out, "params")[0] == {"type": "params", "values": {"lr": 0.01},
                                         "sources": {"lr": "override"}}
    assert any("no cell tagged" in w["message"] for w in of_type(out, "warning"))
    done = nbformat.read(str(executed), as_version=4)
    assert done.cells[0].metadata["tags"] == ["injected-parameters"]
    assert "hello 0.01" in done.cells[1].outputs[0]["text"]
    assert ev == []


def test_cell_timeout_fails_the_run(tmp_path):
    nb = _notebook(tmp_path / "nb.ipynb", ["import time\ntime.sleep(30)", "print('never')"])
    t0 = time.monotonic()
    proc, out, ev, executed = _run(tmp_path, nb, "--cell-timeout", "1")
    assert time.monotonic() - t0 < 15
    assert proc.returncode == 1
    failed = of_type(out, "cell_failed")
    assert failed[0]["index"] == 0 and failed[0]["ename"] == "CellTimeoutError"
    assert out[-1]["status"] == "failed"
    assert [c["index"] for c in of_type(out, "cell_started")] == [0]
