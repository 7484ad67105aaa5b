#!/usr/bin/env bash
# Installs the Debian packages the tests need: headless Chromium for the e2e tests, the native
# build tools code-server's dependencies compile with, ripgrep (code-server's bundled rg cannot be
# downloaded offline), Debian's Python with the data-science stack the tracked runs use, and
# python3-venv (ensurepip), without which Debian's python3 cannot build the venv of current
# releases (scripts/provision-python.sh) on a machine with no other python3.
# Idempotent: packages already installed are skipped without touching apt.
set -euo pipefail

packages=(
  chromium ripgrep build-essential pkg-config libkrb5-dev git ca-certificates
  python3 python3-nbclient python3-nbformat python3-ipykernel jupyter-nbconvert
  python3-pandas python3-numpy python3-sklearn python3-scipy python3-fastapi python3-pydantic
  python3-uvicorn python3-pytest python3-httpx python3-joblib python3-venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "provision-system: all ${#packages[@]} Debian packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "provision-system: missing Debian packages (${missing[*]}) and no root or sudo to install them" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "provision-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "provision-system: done"
