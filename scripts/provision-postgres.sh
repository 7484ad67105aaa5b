#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the generated service's audit sink (AUDIT_DSN):
# Debian's postgresql package (and python3-psycopg2, the driver Debian's Python uses), then a
# cluster of our own, initialised in $NB2PROD_PG_DIR (default /tmp/nb2prod-postgres), listening
# on 127.0.0.1:$NB2PROD_PG_PORT (default 54329) only, trust authentication (nothing but this
# machine can reach it), owned by an unprivileged user (postgres refuses to run as root: the
# Debian package's `postgres` account when we are root, else ourselves).
#
#   bash scripts/provision-postgres.sh          install if needed, start if needed, print the DSN
#   bash scripts/provision-postgres.sh --print  only print the DSN (started or not)
#   bash scripts/provision-postgres.sh --stop   stop the cluster (the data folder stays)
#
# Idempotent and safe to call concurrently (a lock). Where PostgreSQL cannot be installed or
# started it fails naming what is missing: the tests then fail too, they never skip.
set -euo pipefail

port="${NB2PROD_PG_PORT:-54329}"
data="${NB2PROD_PG_DIR:-/tmp/nb2prod-postgres}"
user="nb2prod"
dsn="postgresql://$user@127.0.0.1:$port/$user"
fail() { echo "provision-postgres: FAILED: $*" >&2; exit 1; }

case "${1:-}" in
  --print) echo "$dsn"; exit 0 ;;
  --stop|"") ;;
  *) echo "usage: bash scripts/provision-postgres.sh [--print|--stop]" >&2; exit 2 ;;
esac

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# the packages: the server (initdb, pg_ctl), its client (psql) and Debian Python's driver
missing=()
for p in postgresql postgresql-client python3-psycopg2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && [ "${1:-}" != "--stop" ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    fail "Debian packages ${missing[*]} are missing and there is no root or sudo to install them (apt-get install ${missing[*]})"
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "provision-postgres: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || fail "apt-get update failed (is Debian's package mirror reachable?)"
  # the package's own cluster is not needed: ours is started below
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi
bin="$(bin_dir)"
[ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] || fail "no initdb/pg_ctl under /usr/lib/postgresql/*/bin (Debian package postgresql)"

# who runs the server: never root
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || fail "running as root and there is no postgres account to run the server as (it comes with Debian's postgresql-common)"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi

command -v flock >/dev/null || fail "flock is missing (Debian package util-linux)"
mkdir -p "$(dirname "$data")"
exec 9>"$data.lock"
flock 9

if [ "${1:-}" = "--stop" ]; then
  [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  echo "provision-postgres: stopped"
  exit 0
fi

running() { as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
  chmod 700 "$data"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
    || { tail -n 20 "$data.initdb.log" >&2; fail "initdb failed (log: $data.initdb.log)"; }
fi

if ! running; then
  # 9>&-: the server must not inherit the lock's descriptor (it would hold the lock for its life)
  as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=100 -c fsync=off" start >/dev/null 9>&- \
    || { tail -n 20 "$data/server.log" >&2 2>/dev/null; fail "the server did not start on 127.0.0.1:$port (is the port taken? set NB2PROD_PG_PORT; log: $data/server.log)"; }
fi

psql() { as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
[ "$(psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" = "1" ] \
  || psql -d postgres -c "CREATE ROLE $user LOGIN CREATEDB" || fail "cannot create the role $user"
[ "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$user'")" = "1" ] \
  || psql -d postgres -c "CREATE DATABASE $user OWNER $user" || fail "cannot create the database $user"
echo "provision-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') ready: $dsn"
