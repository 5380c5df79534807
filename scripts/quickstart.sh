#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains a small model with the C++ client
# into the default store (./mlruns.db, artifacts in ./mlartifacts), trains the built-in logistic
# regression on a generated data set, registers it as models:/quickstart-classifier@champion,
# and lists the runs.
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
echo "==> the built-in logistic regression on a generated set (100,000 rows, 20% held out)"
mkdir -p data
$mlt datasets generate classification --rows 100000 --features 20 --informative 8 --seed 1 \
  -o data/quickstart-classification.csv
out=$($mlt train logistic --data data/quickstart-classification.csv --label label \
  --test-fraction 0.2 --reg 0.0001 --experiment quickstart --run-name logistic \
  --register quickstart-classifier)
echo "$out"
version=$(sed -n 's/.*registered as quickstart-classifier version \([0-9]*\).*/\1/p' <<<"$out")
$mlt models alias quickstart-classifier champion "$version"
$mlt models describe models:/quickstart-classifier@champion
echo "==> runs of 'quickstart', best first"
$mlt runs list --experiment quickstart --order-by "metrics.rmse ASC" --max-results 10
echo
echo "Store: sqlite:///mlruns.db   artifacts: ./mlartifacts"
echo "Next:  $mlt runs get <RUN ID>    $mlt artifacts list --run-id <RUN ID>"
