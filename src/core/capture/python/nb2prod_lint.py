# -*- coding: utf-8 -*-
"""The interpreter's word on notebook cells, for nb2prod's linter.  Never runs the cells.

``--serve``: reads requests as JSON lines on stdin, answers each with one JSON line on stdout::

    {"id": 1, "source": "<cell>", "masked": "<cell with magics masked by nb2prod>",
     "statements": [{"line": 3, "column": 6, "text": "x = f()"}]}
    -> {"id": 1, "ok": true, "via": "ipython"}
    -> {"id": 1, "ok": false, "via": "ipython", "error": "SyntaxError", "message": "...",
        "line": 0, "column": 4, "endLine": 0, "endColumn": 5}      (0-based, in the cell)

Each cell goes through IPython's own input transformation (magics, ``!`` lines, ``x?``) when
IPython is importable, as a kernel would; otherwise nb2prod's masked text is used.  It is then
compiled -- ``compile(src, '<cell>', 'exec', PyCF_ALLOW_TOP_LEVEL_AWAIT)``, a full compile, so
``return`` outside a function counts and top-level ``await`` (valid in a notebook) does not.
``statements`` are the Python statements of ``%time``-like line magics (where nb2prod found
them), which the magic compiles when it runs: they are compiled too.
The first line written is ``{"ready": true, "python": "3.11.7", "ipython": "8.5.0" | null}``.

``--names MODULE...``: imports each module and prints ``{"MODULE": [names] | null}``: what
``from MODULE import *`` binds (``__all__``, else the public names).  This runs the modules'
code, so nb2prod only asks it of installed modules, in a trusted workspace, in a process of its
own.

Written for any Python 3 (the interpreter may be a project's old virtual environment).
"""
import ast
import json
import sys
import warnings

PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun", "debug", "python", "python3")
ALLOW_TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)


def _transformer():
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        import IPython
    except Exception:
        return None, None
    return TransformerManager(), getattr(IPython, "__version__", "?")


def _cell_text(source):
    """The Python a cell holds: the body of a ``%%time``-like cell magic (its first line blanked,
    so line numbers stay), None for a cell magic whose body is not Python (``%%bash``)."""
    lines = source.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1  # IPython drops leading blank lines before looking for a cell magic
    if first == len(lines) or not lines[first].startswith("%%"):
        return source
    words = lines[first][2:].split()
    if not words or words[0] not in PYTHON_CELL_MAGICS:
        return None
    lines[first] = ""
    return "\n".join(lines)


def _map_line(original, transformed, lineno, offset):
    """A position in the transformed cell, as (0-based line, 0-based column) in the original.

    IPython's transformation keeps lines in place except that it drops leading blank lines,
    removes a common indent, and joins a magic's backslash-continued lines into one; the error's
    line is found again by its text, searched from where it would be."""
    orig_lines = original.split("\n")
    new_lines = transformed.split("\n")
    if lineno is None or lineno < 1:
        return None
    leading = 0
    while leading < len(orig_lines) and not orig_lines[leading].strip():
        leading += 1
    start = lineno - 1 + leading
    text = new_lines[lineno - 1] if lineno - 1 < len(new_lines) else ""
    column = max(0, (offset or 1) - 1)
    removed = max(0, len(orig_lines) - len(new_lines))
    for j in range(start, min(len(orig_lines), start + removed + 1)):
        candidate = orig_lines[j]
        if candidate.strip() == text.strip():
            shift = (len(candidate) - len(candidate.lstrip())) - (len(text) - len(text.lstrip()))
            return j, max(0, min(len(candidate), column + shift))
    j = min(start, len(orig_lines) - 1)
    return j, min(column, len(orig_lines[j]))


def check(manager, source, masked, statements=()):
    answer = _check_cell(manager, source, masked)
    if answer.get("ok") and manager is not None:
        for statement in statements:
            failed = _check_statement(manager, statement)
            if failed:
                return failed
    return answer


def _check_statement(manager, statement):
    """The statement of ``%time stmt``: IPython transforms and compiles it when the magic runs."""
    try:
        code = manager.transform_cell(statement["text"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<magic>", "exec", ALLOW_TOP_LEVEL_AWAIT, True)
        return None
    except SyntaxError as error:
        line, column = statement["line"], statement["column"]
        lineno = max(1, error.lineno or 1)
        col = max(0, (error.offset or 1) - 1)
        at = (line + lineno - 1, (column if lineno == 1 else 0) + col)
        return {"ok": False, "via": "ipython", "error": type(error).__name__, "message": error.msg or "invalid syntax",
                "line": at[0], "column": at[1], "endLine": at[0], "endColumn": at[1]}
    except Exception:
        return None


def _check_cell(manager, source, masked):
    via = "ipython" if manager is not None else "masked"
    if manager is not None:
        text = _cell_text(source)
        if text is None:
            return {"ok": True, "via": via}
        try:
            code = manager.transform_cell(text)
        except Exception:
            via, text, code = "masked", masked, masked
    else:
        text = code = masked
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<cell>", "exec", ALLOW_TOP_LEVEL_AWAIT, True)
        return {"ok": True, "via": via}
    except SyntaxError as error:
        answer = {"ok": False, "via": via, "error": type(error).__name__, "message": error.msg or "invalid syntax"}
        start = _map_line(text, code, error.lineno, error.offset) if via == "ipython" else _direct(masked, error.lineno, error.offset)
        end_lineno = getattr(error, "end_lineno", None)
        end_offset = getattr(error, "end_offset", None)
        end = None
        if end_lineno is not None and end_offset is not None and end_offset > 0 and (end_lineno, end_offset) > (error.lineno or 0, error.offset or 0):
            end = _map_line(text, code, end_lineno, end_offset) if via == "ipython" else _direct(masked, end_lineno, end_offset)
        if start is None:
            answer.update(line=-1, column=0, endLine=-1, endColumn=0)
        else:
            answer.update(line=start[0], column=start[1])
            if end is None or end < start:
                end = start
            answer.update(endLine=end[0], endColumn=end[1])
        return answer
    except (ValueError, OverflowError, MemoryError, RecursionError) as error:
        # "source code string cannot contain null bytes" (older Pythons), nesting too deep.
        return {"ok": False, "via": via, "error": type(error).__name__, "message": str(error), "line": -1, "column": 0, "endLine": -1, "endColumn": 0}


def _direct(text, lineno, offset):
    if lineno is None or lineno < 1:
        return None
    lines = text.split("\n")
    j = min(lineno - 1, len(lines) - 1)
    return j, max(0, min(len(lines[j]), (offset or 1) - 1))


def serve():
    manager, ipython = _transformer()
    out = sys.stdout
    out.write(json.dumps({"ready": True, "python": "%d.%d.%d" % sys.version_info[:3], "ipython": ipython}) + "\n")
    out.flush()
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    while True:
        line = stdin.readline()
        if not line:
            return
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = check(manager, request.get("source", ""), request.get("masked", ""), request.get("statements") or ())
        except Exception as error:  # a bug here must not stop the other cells' answers
            request = request if isinstance(request, dict) else {}
            answer = {"ok": None, "message": "%s: %s" % (type(error).__name__, error)}
        answer["id"] = request.get("id")
        out.write(json.dumps(answer) + "\n")
        out.flush()


def names(modules):
    import importlib
    import io
    import os

    result = {}
    real_stdout = sys.stdout
    for module in modules:
        # A module that prints on import must not garble the answer.
        sys.stdout = io.StringIO()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                imported = importlib.import_module(module)
            public = getattr(imported, "__all__", None)
            if public is None:
                public = [name for name in dir(imported) if not name.startswith("_")]
            result[module] = sorted(str(name) for name in public)
        except BaseException:  # ImportError, SystemExit from a module, anything
            result[module] = None
        finally:
            sys.stdout = real_stdout
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    os._exit(0)  # no atexit handlers of what was imported


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve()
    elif sys.argv[1:2] == ["--names"]:
        names(sys.argv[2:])
    else:
        sys.stderr.write("usage: nb2prod_lint.py --serve | --names MODULE...\n")
        sys.exit(2)
