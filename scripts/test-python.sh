#!/usr/bin/env bash
# `npm run test:python`: the tests of nb2prod's Python side (test/python: the capture companion,
# the notebook runner, the scaffold's golden step and generated projects' own tests) under each
# interpreter users run nb2prod with, one pytest run each, each with its own junit file:
#   debian   Debian 12's /usr/bin/python3 (scripts/provision-system.sh)
#            -> test-artifacts/pytest-debian.xml
#   current  the venv of current PyPI releases (scripts/provision-python.sh builds it if needed)
#            -> test-artifacts/pytest-current.xml
# and a throwaway PostgreSQL on 127.0.0.1 (scripts/provision-postgres.sh) for the audit sink.
# The tests use the interpreter running them (sys.executable) for everything they start.
# Arguments go to both pytest runs (e.g. `npm run test:python -- -k golden`);
# NB2PROD_TEST_PYTHONS=debian (or current) runs one of them. Fails if either run fails.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
which="${NB2PROD_TEST_PYTHONS:-debian,current}"

interpreters=()
if [[ ",$which," == *",debian,"* ]]; then
  if ! /usr/bin/python3 -c 'import pytest, nbclient, ipykernel, pandas, sklearn, fastapi' 2>/dev/null; then
    echo "test-python: FAILED: Debian's /usr/bin/python3 lacks pytest, nbclient, ipykernel, pandas, scikit-learn or FastAPI: run bash scripts/provision-system.sh" >&2
    exit 1
  fi
  interpreters+=("debian=/usr/bin/python3")
fi
if [[ ",$which," == *",current,"* ]]; then
  bash scripts/provision-python.sh || exit 1
  interpreters+=("current=$(bash scripts/provision-python.sh --print)")
fi
# the generated service's PostgreSQL audit sink is tested against a real server (started if needed)
bash scripts/provision-postgres.sh || exit 1
export NB2PROD_TEST_POSTGRES="$(bash scripts/provision-postgres.sh --print)"
[ ${#interpreters[@]} -gt 0 ] || { echo "test-python: NB2PROD_TEST_PYTHONS=$which names neither debian nor current" >&2; exit 2; }

mkdir -p test-artifacts
status=0
for entry in "${interpreters[@]}"; do
  label="${entry%%=*}"
  python="${entry#*=}"
  echo "test-python: test/python under $label Python: $python ($("$python" -V 2>&1))"
  "$python" -m pytest test/python -q -p no:cacheprovider -o junit_suite_name="pytest-$label" \
    --junitxml="test-artifacts/pytest-$label.xml" "$@" || status=1
done
exit $status
