#!/usr/bin/env bash
# Installs mltrack into a temporary prefix, builds an outside project against it with
# find_package(mltrack), runs it, and checks its run with the installed mlt.
#   install_test.sh <build dir> <source dir>
set -euo pipefail
build="$1"
src="$2"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/usr" >/dev/null
test -x "$prefix/usr/bin/mlt"
test -f "$prefix/usr/include/mltrack/client.h"
cmake -S "$src/tests/install/consumer" -B "$prefix/consumer" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
export MLT_TRACKING_URI="sqlite:///$prefix/store.db"
read -r run_id version < <("$prefix/consumer/consumer")
test "$version" = 1
listing=$("$prefix/usr/bin/mlt" runs list --experiment outside)
echo "$listing"
grep -q "$run_id  consumer-run  FINISHED" <<<"$listing"
details=$("$prefix/usr/bin/mlt" runs get "$run_id")
grep -q "source *find_package" <<<"$details"
grep -q "mlflow.log-model.history" <<<"$details"
echo "install test: passed"
