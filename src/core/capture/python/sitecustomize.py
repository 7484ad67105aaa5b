# -*- coding: utf-8 -*-
"""nb2prod run capture, loaded by Python at start-up from PYTHONPATH.

Does nothing unless the environment variable NB2PROD_EVENTS is set; then it
installs the capture (nb2prod._capture).  A process of a tracked run that
leads its own process group (the Jupyter kernel) is put on a lifeline to the
process named by NB2PROD_WATCH_PID (nb2prod_lifeline).  In every case it then runs the next
``sitecustomize`` module found on sys.path (Debian ships one), so putting this
directory first on PYTHONPATH does not shadow it.
"""
import os as _os
import sys as _sys


def _nb2prod_install():
    if not _os.environ.get("NB2PROD_EVENTS"):
        return
    argv = getattr(_sys, "argv", None) or [""]
    if _os.path.basename(argv[0] or "") == "nb2prod_runner.py":
        return  # the notebook runner is not part of the run (its kernel is)
    try:
        import nb2prod._capture  # noqa: F401  (installs itself when the variable is set)
    except Exception:
        pass


def _nb2prod_lifeline():
    if not _os.environ.get("NB2PROD_WATCH_PID"):
        return
    try:
        if _os.getpgrp() != _os.getpid():
            return  # not a group leader: the group's leader (or the guard) covers it
        import nb2prod_lifeline
        nb2prod_lifeline.watch()
    except Exception:
        pass


def _nb2prod_chain():
    here = _os.path.dirname(_os.path.abspath(__file__))

    def same(p):
        try:
            return _os.path.realpath(_os.path.abspath(p or _os.curdir)) == _os.path.realpath(here)
        except Exception:
            return False

    paths = [p for p in _sys.path if not same(p)]
    import importlib.machinery
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", paths)
    if spec is None or spec.loader is None or not spec.origin:
        return
    try:
        if _os.path.realpath(spec.origin) == _os.path.realpath(_os.path.abspath(__file__)):
            return
    except Exception:
        pass
    import importlib.util
    name = "_nb2prod_chained_sitecustomize"
    mod = importlib.util.module_from_spec(spec)
    _sys.modules[name] = mod
    spec.loader.exec_module(mod)


_nb2prod_lifeline()
_nb2prod_install()
_nb2prod_chain()
