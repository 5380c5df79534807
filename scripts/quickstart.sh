#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains a small model with the C++ client
# into the default store (./mlruns.db, artifacts in ./mlartifacts) and lists the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> building (Release)"
MLT_BUILD_DIR=build scripts/build.sh -DMLT_BUILD_TESTS=OFF -DMLT_BUILD_BENCH=OFF
mlt=build/src/cli/mlt
echo "==> experiment 'quickstart'"
$mlt experiments get --name quickstart >/dev/null 2>&1 || $mlt experiments create quickstart
echo "==> training with the C++ client"
build/examples/cpp-quickstart/quickstart --experiment quickstart
echo "==> runs of 'quickstart', best first"
$mlt runs list --experiment quickstart --order-by "metrics.rmse ASC" --max-results 10
echo
echo "Store: sqlite:///mlruns.db   artifacts: ./mlartifacts"
echo "Next:  $mlt runs get <RUN ID>    $mlt artifacts list --run-id <RUN ID>"
