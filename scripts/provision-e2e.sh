#!/usr/bin/env bash
# Everything the real-VS Code e2e tests need: Debian packages (Chromium, ripgrep, build tools),
# then code-server in .cache/code-server, then a check that Chromium is where the harness looks.
# Idempotent and fast when everything is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! bash "$root/scripts/provision-system.sh"; then
  echo "provision-e2e: FAILED: scripts/provision-system.sh could not install the Debian packages" >&2
  exit 1
fi
if ! bash "$root/scripts/install-code-server.sh"; then
  echo "provision-e2e: FAILED: scripts/install-code-server.sh could not install code-server" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "provision-e2e: FAILED: /usr/bin/chromium is missing (Debian package chromium; see scripts/provision-system.sh)" >&2
  exit 1
fi
echo "provision-e2e: ready ($(/usr/bin/chromium --version 2>/dev/null | head -n1), code-server 4.100.3)"
