#!/usr/bin/env bash
# The main job: installs what is missing, builds mlt, then takes a model through its whole life
# on the default local store in this directory (scripts/lifecycle.sh): example projects trained
# with `mlt run`, the best recommender registered as models:/recs@prod, served and asked for a
# top-10 list, the leaderboards printed. Extra arguments go to lifecycle.sh (--small).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> building (Release)"
MLT_BUILD_DIR=build scripts/build.sh -DMLT_BUILD_TESTS=OFF -DMLT_BUILD_BENCH=OFF
scripts/lifecycle.sh --mlt build/src/cli/mlt "$@"
