#!/usr/bin/env bash
# `npm start`: the extension in a real VS Code (code-server) in your browser, on a demo workspace.
#   1. provisions what is missing (Debian packages, code-server)       scripts/provision-e2e.sh
#   2. builds and packages the VSIX                                     scripts/package-vsix.mjs
#   3. installs it into a code-server whose state persists in .cache/start/
#   4. copies examples/churn to .cache/start/workspace, fresh each start; the workspace's
#      .nb2prod store is kept, so runs accumulate as they would in a real project
#   5. serves it on http://127.0.0.1:$PORT (8080 by default, else a free port) until Ctrl-C
#   6. meanwhile, tracks a real run of churn.ipynb with the CLI, lists and shows it (so the Runs
#      view has a tracked run), lints the workspace and generates churn-service/ from the run
#      (try: cd .cache/start/workspace/churn-service && make test && make serve); the URL is
#      printed last
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
state="$root/.cache/start"
ws="$state/workspace"
entry="$root/.cache/code-server/node_modules/code-server/out/node/entry.js"
vsix="$root/.cache/vsix/nb2prod.vsix"

fail() { echo "start: FAILED: $*" >&2; exit 1; }

bash scripts/provision-e2e.sh || fail "provisioning failed (see above)"

mkdir -p "$state"/{user-data/User,extensions,xdg-config,xdg-data,xdg-cache}
echo "start: building and packaging the extension"
if ! pkg_json="$(node scripts/package-vsix.mjs --json 2>"$state/package.log")"; then
  tail -n 30 "$state/package.log" >&2
  fail "could not build/package the extension (full log: .cache/start/package.log)"
fi
echo "start: packaged $pkg_json"

export XDG_CONFIG_HOME="$state/xdg-config" XDG_DATA_HOME="$state/xdg-data" XDG_CACHE_HOME="$state/xdg-cache"
# Settings are the user's once written: only the first start creates them.
settings="$state/user-data/User/settings.json"
if [ ! -f "$settings" ]; then
  cat >"$settings" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "git.openRepositoryInParentFolders": "never"
}
JSON
fi

# --force: reinstall even when the version number did not change (it is the freshly built code).
if ! node "$entry" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
    --install-extension "$vsix" --force >"$state/install-extension.log" 2>&1; then
  cat "$state/install-extension.log" >&2
  fail "code-server could not install $vsix"
fi

# A fresh copy of the example, so what was edited in an earlier demo does not linger; the store
# is moved aside and back, so earlier runs stay. A store of the older sample-run demo (no
# churn.ipynb beside it) holds runs of files this example lacks: it is not kept.
kept="$state/kept-store"
rm -rf "$kept"
if [ -d "$ws/.nb2prod" ] && [ -f "$ws/churn.ipynb" ]; then mv "$ws/.nb2prod" "$kept"; fi
rm -rf "$ws"
mkdir -p "$ws"
cp -R examples/churn/. "$ws/"
# What a local run in examples/churn left behind is not part of the example.
rm -rf "$ws/.nb2prod" "$ws/models"
if [ -d "$kept" ]; then mv "$kept" "$ws/.nb2prod"; else mkdir -p "$ws/.nb2prod"; fi
# The workspace lies inside this repository: give it a repository of its own, so its runs
# record the example's git state rather than nb2prod's.
if command -v git >/dev/null; then
  git -C "$ws" init -q
  git -C "$ws" add -A
  git -C "$ws" -c user.name="nb2prod demo" -c user.email="demo@nb2prod.invalid" commit -qm "Example project" || true
fi
earlier=0
if [ -d "$ws/.nb2prod/runs" ]; then earlier="$(find "$ws/.nb2prod/runs" -name '*.json' | wc -l | tr -d ' ')"; fi
echo "start: demo workspace copied from examples/churn (runs kept from earlier starts: $earlier)"

port_free() { node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close(()=>process.exit(0)))' "$1"; }
port="${PORT:-8080}"
if ! port_free "$port"; then
  wanted="$port"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  echo "start: port $wanted is taken, using $port"
fi

log="$state/code-server.log"
: >"$log"
# setsid: code-server (and the extension host, pty host, watcher it spawns) in its own process
# group, so shutdown can stop all of it; Ctrl-C reaches this script, which does that. PORT is
# unset for it: code-server prefers $PORT to --bind-addr, and the port may have been replaced.
setsid env -u PORT node "$entry" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  "$ws" >>"$log" 2>&1 &
cs_pid=$!
stopped=""
stop() {
  [ -n "$stopped" ] && return
  stopped=1
  echo
  echo "start: stopping code-server"
  kill -TERM -- "-$cs_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$cs_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$cs_pid" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# The CLI in the workspace, as a user would type it there, while code-server starts: a real
# tracked run of the notebook (Debian's python3 has nbclient, pandas and scikit-learn), then
# what the store holds. NB2PROD_STORE is unset so the workspace's own .nb2prod is the store.
cli() {
  echo
  echo "\$ nb2prod $*"
  (cd "$ws" && env -u NB2PROD_STORE node "$root/dist/cli.js" "$@") || echo "(nb2prod exited with $?)"
}
echo
echo "The CLI in the demo workspace ($ws), nb2prod being node dist/cli.js:"
cli track churn.ipynb --python /usr/bin/python3
cli runs
cli show latest
cli lint .
cli scaffold churn.ipynb --out churn-service --python /usr/bin/python3

ready=""
for _ in $(seq 1 150); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    ready=1; break
  fi
  kill -0 "$cs_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  tail -n 30 "$log" >&2
  fail "code-server did not start (log: .cache/start/code-server.log)"
fi

url="http://127.0.0.1:$port/?folder=$ws"
bar="================================================================================"
cat <<EOF

$bar
  nb2prod is running in VS Code (code-server $(node -p "require('$root/.cache/code-server/node_modules/code-server/package.json').version")).

  Open:  $url

  The nb2prod icon in the activity bar shows the Runs view, with the run tracked above.
  Open churn.ipynb and click "Track Run" in its toolbar to record another one.
  Open exploration.ipynb to see lint diagnostics on its cells, with quick fixes (Ctrl+.).
  churn-service/ is the FastAPI service and pipeline generated from the tracked run; the
  notebook toolbar's "Generate Production Service" does the same in the editor.
  Workspace trust is off in this demo. State: .cache/start/  Log: .cache/start/code-server.log
  Press Ctrl-C to stop.
$bar
EOF

# Foreground until Ctrl-C (or until code-server exits by itself).
set +e
wait "$cs_pid"
status=$?
if [ -z "$stopped" ]; then
  echo "start: code-server exited with status $status (log: .cache/start/code-server.log)" >&2
  exit "$status"
fi
