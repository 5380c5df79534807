#!/usr/bin/env bash
# Installs the Debian packages mltrack builds and tests with, skipping what is already there.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libsqlite3-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libyaml-cpp-dev libarchive-dev
  libopenmpi-dev openmpi-bin libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
