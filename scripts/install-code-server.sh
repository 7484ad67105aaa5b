#!/usr/bin/env bash
# Installs code-server (a real VS Code 1.100.3 served to a browser) into .cache/code-server for the
# e2e tests and `npm start`. Desktop VS Code cannot be downloaded on this machine; code-server from
# the npm registry can, but its postinstall builds native modules and downloads ripgrep, so:
#   - @vscode/ripgrep's download cache is pre-filled with Debian's /usr/bin/rg (no GitHub access);
#   - npm 11 blocks dependency install scripts, so the ones code-server needs are allowed by name
#     (see below for why code-server's own postinstall is run by hand);
#   - node-gyp builds against the local Node headers (nodedir=/usr) instead of downloading them.
# Idempotent: a marker written after a successful smoke start makes reruns a fast no-op.
set -euo pipefail

VERSION="4.100.3"
RG_VERSION="v13.0.0-10"          # the ripgrep release @vscode/ripgrep 1.15.11 downloads
RG_PKG_VERSION="1.15.11"
start_ms=$(date +%s%3N)
elapsed() { local ms=$(( $(date +%s%3N) - start_ms )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/code-server"
cs="$dir/node_modules/code-server"
entry="$cs/out/node/entry.js"
marker="$dir/.installed-$VERSION"

fail() { echo "install-code-server: FAILED: $*" >&2; exit 1; }

if [ -f "$marker" ] && [ -f "$entry" ] \
  && [ "$(node -p "require('$cs/package.json').version" 2>/dev/null)" = "$VERSION" ]; then
  echo "install-code-server: code-server $VERSION already installed in .cache/code-server ($(elapsed) s)"
  exit 0
fi

# Prerequisites, each reported by name so the fix is obvious.
command -v node >/dev/null || fail "node is missing (code-server $VERSION needs Node 20)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" = "20" ] || fail "code-server $VERSION needs Node 20, found $(node -v)"
command -v npm >/dev/null || fail "npm is missing"
[ -x /usr/bin/rg ] || fail "/usr/bin/rg is missing: run scripts/provision-system.sh (Debian package ripgrep)"
for tool in make g++ pkg-config python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/provision-system.sh (build-essential pkg-config)"
done
[ -f /usr/include/gssapi/gssapi.h ] || fail "Kerberos headers are missing: run scripts/provision-system.sh (libkrb5-dev)"
if [ -z "${npm_config_nodedir:-}" ] && ! grep -qs '^nodedir=' "$HOME/.npmrc"; then
  [ -f /usr/include/node/common.gypi ] || fail "Node headers (/usr/include/node/common.gypi) are missing: node-gyp cannot build offline"
  export npm_config_nodedir=/usr
fi

# Pre-fill @vscode/ripgrep's download cache (it looks in os.tmpdir()).
rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RG_PKG_VERSION"
rg_tgz="$rg_cache/ripgrep-$RG_VERSION-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$rg_tgz" ]; then
  mkdir -p "$rg_cache"
  tar czf "$rg_tgz" -C /usr/bin rg
fi

echo "install-code-server: installing code-server $VERSION into .cache/code-server (about a minute)"
rm -rf "$dir"
mkdir -p "$dir"
# argon2 (native, code-server's own dependency) may run its install script; code-server's
# postinstall is run by hand below, after its nested project is given its policy.
cat >"$dir/package.json" <<JSON
{
  "name": "nb2prod-code-server",
  "private": true,
  "dependencies": { "code-server": "$VERSION" },
  "allowScripts": { "argon2": true, "code-server": false }
}
JSON
log="$dir/install.log"
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
if ! (cd "$dir" && npm install --loglevel=warn >"$log" 2>&1); then
  tail -n 30 "$log" >&2
  fail "npm install code-server@$VERSION failed (full log: .cache/code-server/install.log)"
fi
[ -f "$cs/postinstall.sh" ] || fail "npm did not install code-server $VERSION (see .cache/code-server/install.log)"

# code-server's postinstall runs `npm install --omit=dev` in lib/vscode and lib/vscode/extensions.
# npm 11 lets those nested installs run dependency scripts only through a policy of their own
# project: an --allow-scripts flag or npm_config_ env var is rejected there, and any npm config set
# on an outer npm is exported to them as env. So the policy goes into lib/vscode/.npmrc. The list
# is the Linux packages with install scripts in lib/vscode/npm-shrinkwrap.json; the extensions'
# ones are dev-only.
echo "allow-scripts=@parcel/watcher,@vscode/deviceid,@vscode/ripgrep,@vscode/spdlog,kerberos,native-watchdog,node-pty" \
  >"$cs/lib/vscode/.npmrc"
# npm_config_user_agent tells postinstall.sh to use npm; unsafe_perm: it refuses to run as root
# without it.
if ! (cd "$cs" && npm_config_user_agent="npm/$(npm -v 2>/dev/null) node/$(node -v) linux x64" \
      npm_config_unsafe_perm=true sh ./postinstall.sh >>"$log" 2>&1); then
  tail -n 30 "$log" >&2
  fail "code-server's postinstall (native builds) failed (full log: .cache/code-server/install.log)"
fi

# A postinstall can "succeed" with scripts silently skipped: check what it must produce.
vs="$cs/lib/vscode"
[ -e "$vs/node_modules.asar" ] || fail "code-server's postinstall did not finish (see .cache/code-server/install.log)"
[ -x "$vs/node_modules/@vscode/ripgrep/bin/rg" ] || fail "ripgrep is missing from code-server (install script skipped? see .cache/code-server/install.log)"
[ -e "$vs/node_modules/node-pty/build/Release/pty.node" ] || fail "node-pty was not built (native build failed? see .cache/code-server/install.log)"

# Smoke start: the server must answer /healthz, which proves it loads. Without PORT: code-server
# prefers $PORT to the port of --bind-addr, so `PORT=8899 npm start` would otherwise point the
# smoke check at 8899 while it polls the free port picked here (and fail when 8899 is taken).
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
smoke="$(mktemp -d)"
env -u PORT XDG_CONFIG_HOME="$smoke/config" XDG_DATA_HOME="$smoke/data" XDG_CACHE_HOME="$smoke/cache" \
  node "$entry" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
  --user-data-dir "$smoke/user" --extensions-dir "$smoke/ext" "$smoke" >"$dir/smoke.log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 100); do
  # node's fetch rather than curl: curl is not among the provisioned packages.
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
      "http://127.0.0.1:$port/healthz" 2>/dev/null; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm -rf "$smoke"
[ -n "$ok" ] || fail "code-server $VERSION was installed but does not start (see .cache/code-server/smoke.log)"

touch "$marker"
echo "install-code-server: code-server $VERSION installed and answering /healthz ($(elapsed) s)"
