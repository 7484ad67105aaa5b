"""The lifeline (nb2prod_lifeline.py, started by sitecustomize): a tracked process
that leads its own process group -- the Jupyter kernel, anything started with
start_new_session -- kills its group when the process it watches
($NB2PROD_WATCH_PID) is gone, so nothing of a run outlives the runner (or the
guard) even where the guard cannot see it."""
import os
import signal
import subprocess
import sys
import time

import nbformat

from conftest import RUNNER, base_env

# The watched program starts a shell child in its group, then records both pids.
LEADER = (
    "import os, subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "open(sys.argv[1], 'w').write('%d %d\\n' % (os.getpid(), child.pid))\n"
    "time.sleep(300)\n"
)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            data = fh.read()
        return data[data.rindex(b")") + 2:][:1] != b"Z"
    except OSError:
        return False


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def _pids(path):
    _wait_for(lambda: path.exists() and len(path.read_text().split()) == 2, 30, "pids")
    return [int(p) for p in path.read_text().split()]


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _start_leader(tmp_path, anchor_pid, new_session=True):
    pids = tmp_path / "pids.txt"
    env = base_env(NB2PROD_WATCH_PID=anchor_pid)
    proc = subprocess.Popen([sys.executable, "-c", LEADER, str(pids)], env=env,
                            start_new_session=new_session)
    return proc, _pids(pids)


def test_a_group_leader_dies_with_the_process_it_watches_even_a_zombie(tmp_path):
    anchor = subprocess.Popen(["sleep", "300"])
    proc, pids = _start_leader(tmp_path, anchor.pid)
    try:
        assert all(_alive(p) for p in pids)
        anchor.kill()  # not reaped yet: a zombie, which kill(pid, 0) still finds
        t0 = time.monotonic()
        _wait_for(lambda: not any(_alive(p) for p in pids), 5, "the group to die")
        assert time.monotonic() - t0 < 2
        assert proc.wait(5) == -signal.SIGKILL
    finally:
        anchor.wait()
        _kill_all(pids)


def test_a_process_in_the_watched_process_group_is_left_to_that_group(tmp_path):
    # Not a group leader (the guard's group covers it): no lifeline, it outlives the pid.
    anchor = subprocess.Popen(["sleep", "300"])
    proc, pids = _start_leader(tmp_path, anchor.pid, new_session=False)
    try:
        anchor.kill()
        anchor.wait()
        time.sleep(1.0)
        assert all(_alive(p) for p in pids)
    finally:
        _kill_all(pids)
        proc.wait()


def test_a_group_whose_watched_process_is_already_gone_dies_at_once(tmp_path):
    anchor = subprocess.Popen(["true"])
    anchor.wait()
    proc = subprocess.Popen([sys.executable, "-c", LEADER, str(tmp_path / "pids.txt")],
                            env=base_env(NB2PROD_WATCH_PID=anchor.pid), start_new_session=True)
    assert proc.wait(10) == -signal.SIGKILL
    assert not (tmp_path / "pids.txt").exists()


def test_the_kernel_dies_with_a_killed_runner(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(LEADER.replace("sys.argv[1]", repr(str(tmp_path / "pids.txt"))))]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    runner = subprocess.Popen([sys.executable, RUNNER, "--notebook", str(tmp_path / "nb.ipynb"),
                               "--output", str(tmp_path / "out.ipynb")],
                              env=base_env(tmp_path / "events.jsonl"), cwd=str(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = _pids(tmp_path / "pids.txt")  # the kernel and its child
    try:
        runner.kill()
        runner.wait()
        _wait_for(lambda: not any(_alive(p) for p in pids), 5, "the kernel to die")
    finally:
        _kill_all(pids)
