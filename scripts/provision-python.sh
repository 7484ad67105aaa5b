#!/usr/bin/env bash
# Builds (once) the venv of current PyPI releases that the tests run nb2prod's Python side in,
# beside Debian's /usr/bin/python3: the exact pins of scripts/python/requirements-current.txt
# (pandas 2, numpy 2, scikit-learn 1.9, pydantic 2, FastAPI 0.165, nbclient 0.11, ipykernel 7...).
#
#   bash scripts/provision-python.sh           build the venv if needed, print where it is
#   bash scripts/provision-python.sh --print   only print its interpreter's path (built or not)
#
# The venv lives in $NB2PROD_VENV_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/nb2prod), named by
# the sha256 of the pinned list: a changed list builds a new venv, and a fresh clone of the
# repository (as CI runs in) reuses the one already built on this machine. It is built in a
# temporary folder and renamed into place only once every package imports, so an interrupted
# build never leaves a venv that looks complete. Concurrent callers wait on a lock. The base
# interpreter is $NB2PROD_VENV_PYTHON, else python3 on the PATH (3.11 or later, with venv and
# ensurepip: Debian's needs the python3-venv package, see scripts/provision-system.sh).
# Where the venv cannot be built (no such interpreter, no PyPI) it fails naming what is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/scripts/python/requirements-current.txt"
start_ms=$(date +%s%3N)
elapsed() { local ms=$(( $(date +%s%3N) - start_ms )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
fail() { echo "provision-python: FAILED: $*" >&2; exit 1; }

[ -f "$requirements" ] || fail "$requirements is missing"
key="$(sha256sum "$requirements" | cut -c1-16)"
cache="${NB2PROD_VENV_CACHE:-${XDG_CACHE_HOME:-${HOME:-$root}/.cache}/nb2prod}"
venv="$cache/venv-$key"
marker="$venv/.nb2prod-complete"

if [ "${1:-}" = "--print" ]; then
  echo "$venv/bin/python"
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: bash scripts/provision-python.sh [--print]" >&2
  exit 2
fi

# Complete (renamed into place with its marker) and its interpreter still starts (a removed or
# upgraded base interpreter breaks the venv's symlink: then it is rebuilt).
ready() { [ -f "$marker" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; }

if ready; then
  touch "$marker"  # recently used: kept by the pruning below
  echo "provision-python: venv of current releases ready: $venv/bin/python ($(elapsed) s)"
  exit 0
fi

mkdir -p "$cache" || fail "cannot create the cache folder $cache (set NB2PROD_VENV_CACHE)"
command -v flock >/dev/null || fail "flock is missing (Debian package util-linux)"
exec 9>"$cache/.lock"
flock 9
if ready; then  # another process built it while this one waited
  echo "provision-python: venv of current releases ready: $venv/bin/python ($(elapsed) s)"
  exit 0
fi

base="${NB2PROD_VENV_PYTHON:-$(command -v python3 || true)}"
[ -n "$base" ] || fail "no python3 on the PATH to build the venv with (install Debian's python3 and python3-venv: scripts/provision-system.sh, or set NB2PROD_VENV_PYTHON)"
"$base" -c 'import sys' >/dev/null 2>&1 \
  || fail "$base does not run (set NB2PROD_VENV_PYTHON to a Python 3.11 or later with venv and ensurepip)"
"$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || fail "$base is not Python 3.11 or later ($("$base" -V 2>&1)); numpy 2.4 and scikit-learn 1.9 need 3.11 (set NB2PROD_VENV_PYTHON)"
"$base" -c 'import venv, ensurepip' 2>/dev/null \
  || fail "$base cannot make a venv with pip (no venv/ensurepip module): on Debian install python3-venv (scripts/provision-system.sh), or set NB2PROD_VENV_PYTHON"

# Leftovers: a venv without its marker (or with a dead interpreter), and interrupted builds.
rm -rf "$venv" "$cache/.building-$key-"*
tmp="$cache/.building-$key-$$"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM  # runs the EXIT trap: an interrupted build leaves nothing behind
log="$cache/venv-$key.log"
echo "provision-python: building the venv of current releases ($(grep -cv '^\s*\(#\|$\)' "$requirements") pinned packages) with $base ($("$base" -V 2>&1)) in $venv (about a minute)"
"$base" -m venv "$tmp" >"$log" 2>&1 || { tail -n 20 "$log" >&2; fail "$base -m venv failed (full log: $log)"; }
if ! "$tmp/bin/python" -m pip install --no-input --disable-pip-version-check --progress-bar off \
    --only-binary=:all: -r "$requirements" >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "pip could not install scripts/python/requirements-current.txt from PyPI (is PyPI reachable? is every pin a released version with a wheel for $("$base" -V 2>&1)? full log: $log)"
fi
"$tmp/bin/python" -c 'import pandas, numpy, sklearn, scipy, pydantic, fastapi, uvicorn, httpx, nbclient, nbformat, ipykernel, pytest, joblib, psycopg, openai, anthropic' >>"$log" 2>&1 \
  || { tail -n 20 "$log" >&2; fail "the venv was installed but its packages do not import (full log: $log)"; }

# A venv records its own path (console-script shebangs, activate, pyvenv.cfg): point them at the
# final location before the rename, so bin/pytest and bin/activate work there.
grep -rlIF "$tmp" "$tmp/bin" "$tmp/pyvenv.cfg" 2>/dev/null | while IFS= read -r file; do
  sed -i "s|$tmp|$venv|g" "$file"
done
"$tmp/bin/python" -m pip freeze --disable-pip-version-check >"$tmp/.nb2prod-freeze.txt"
echo "built $(date -u +%FT%TZ) by $base ($("$base" -V 2>&1)) from $requirements" >"$tmp/.nb2prod-complete"
mv "$tmp" "$venv"
trap - EXIT INT TERM

# Venvs of other pin lists (other branches, older commits) unused for two weeks are removed.
for other in "$cache"/venv-*/; do
  other="${other%/}"
  [ -d "$other" ] && [ "$other" != "$venv" ] || continue
  if [ ! -f "$other/.nb2prod-complete" ] || [ -n "$(find "$other/.nb2prod-complete" -mtime +14)" ]; then
    rm -rf "$other" "$other.log"
  fi
done
echo "provision-python: venv of current releases built: $venv/bin/python ($(elapsed) s)"
