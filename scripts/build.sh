#!/usr/bin/env bash
# Configures and builds mltrack in Release into ./build (or $MLT_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${MLT_BUILD_DIR:-build}"
jobs="${MLT_JOBS:-$(nproc)}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
