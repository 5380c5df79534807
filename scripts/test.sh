#!/usr/bin/env bash
# Installs what is missing, builds everything (tests and benchmarks included) and runs the whole
# test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> building (Release, tests and benchmarks)"
MLT_BUILD_DIR=build-test scripts/build.sh -DMLT_BUILD_TESTS=ON -DMLT_BUILD_BENCH=ON
echo "==> running the tests"
cd build-test
ctest --output-on-failure -j "${MLT_JOBS:-$(nproc)}" --timeout 600
