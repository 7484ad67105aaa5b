# -*- coding: utf-8 -*-
"""nb2prod lifeline: a tracked process that leads its own process group dies
with the process that started the run's part it belongs to.

The tracker starts everything under a guard (nb2prod_guard.mjs), the leader
of the run's process group, which kills that group when the tracker dies.  A
process that leaves the group -- the Jupyter kernel (jupyter_client starts
it in a new session), or anything a run starts with start_new_session /
setsid -- is out of the guard's reach on systems without /proc, and is then
kept on a lifeline here: sitecustomize calls ``watch()`` in every Python
process that has $NB2PROD_WATCH_PID (the pid to watch: the guard, or the
notebook runner for its kernel) and leads a process group other than that
pid's.  A daemon thread checks every 0.25 s that the watched process is
alive (not gone, not a zombie, not another process under a reused pid); when
it is not, it kills this process group with SIGKILL -- the kernel and what
the user's cells started in it.

Never raises: a lifeline that cannot be set up is no lifeline, and the
user's program goes on.
"""
import os
import signal

POLL_SECONDS = 0.25


def _proc_stat(pid):
    """(start time in clock ticks, state) from /proc/PID/stat; None if unknown."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            data = fh.read()
        fields = data[data.rindex(b")") + 2:].split()
        return fields[19], fields[0]  # starttime, state
    except Exception:
        return None


def alive(pid, started=None):
    """True while *pid* runs: it exists, is not a zombie and, when *started*
    (its /proc start time) is known, is still the same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, not ours: cannot be the one we watch, but be safe
    except OSError:
        return True
    stat = _proc_stat(pid)
    if stat is None:
        return True
    start, state = stat
    if state == b"Z":
        return False
    return started is None or start == started


def _kill_group():
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    except Exception:
        pass
    os._exit(137)


def watch(environ=None):
    """Start the lifeline when this process needs one (see the module doc);
    returns True when a watcher thread was started (or the group was already
    orphaned and is being killed)."""
    environ = os.environ if environ is None else environ
    try:
        anchor = int(environ.get("NB2PROD_WATCH_PID", ""))
    except ValueError:
        return False
    try:
        me = os.getpid()
        if anchor <= 1 or anchor == me or os.getpgrp() != me:
            return False
        try:
            if os.getpgid(anchor) == me:
                return False  # the watched process is in our group: its guard covers us
        except ProcessLookupError:
            _kill_group()  # it died before we started
        stat = _proc_stat(anchor)
        started = stat[0] if stat else None
        if not alive(anchor, started):
            _kill_group()
        import threading
        import time

        def run():
            while True:
                time.sleep(POLL_SECONDS)
                if not alive(anchor, started):
                    _kill_group()

        threading.Thread(target=run, name="nb2prod-lifeline", daemon=True).start()
        return True
    except Exception:
        return False
