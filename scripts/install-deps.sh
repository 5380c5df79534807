#!/usr/bin/env bash
# Installs the Debian packages mltrack builds and tests with, skipping what is already there.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libsqlite3-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libyaml-cpp-dev libarchive-dev
  libopenmpi-dev openmpi-bin libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk curl
  chromium
)
# Node.js and npm build the web app's packages; a machine may have them from elsewhere than
# Debian (NodeSource's nodejs brings its own npm), so they are installed only when missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# playwright-core (ui/package.json) runs on Node.js 18 or newer: Debian 12's nodejs, or a newer one.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "install-deps: Node.js $(node --version) is too old: the web app's tests need 18 or newer" >&2
  exit 1
fi

# The web app's npm packages (uPlot, embedded into mlt; playwright-core, for its browser tests),
# exactly as ui/package-lock.json pins them. Skipped when ui/node_modules matches the lock file.
ui="$(cd "$(dirname "$0")/.." && pwd)/ui"
if ! cmp -s "$ui/package-lock.json" "$ui/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "install-deps: npm ci in ui/"
  (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ui/package-lock.json" "$ui/node_modules/.package-lock.json.installed"
else
  echo "install-deps: ui/node_modules is up to date"
fi
