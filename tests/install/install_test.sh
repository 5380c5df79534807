#!/usr/bin/env bash
# The installed package as an outside user meets it. `cmake --install` into a temporary prefix,
# then, with nothing but that prefix:
#   - the files are in their usual places, and the installed mlt runs and tells its version
#     (the project's, also in the CMake and pkg-config packages) and a commit of this repository;
#   - examples/cpp-training builds with find_package(mltrack), trains, and its run, params,
#     per-epoch metrics, tags and artifact are in the store, as the installed mlt shows them;
#   - its bad input (a tracking URI of no known scheme, a non-positive epoch count) fails with a
#     clear message and the documented exit code, and logs nothing;
#   - tests/install/consumer builds with find_package and logs and registers a model;
#   - the same consumer and metric_history.cc build with `pkg-config --cflags --libs mltrack`,
#     with and without --static, and run.
# Usage: install_test.sh <build dir> <source dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/usr"
log="$work/last.txt"
: >"$log"

fail() {
  echo "install test: FAILED: $*" >&2
  echo "--- output of the last command:" >&2
  cat "$log" >&2
  exit 1
}
step() { echo "== $*"; }
# Runs a command with its output in $log; fails the test with that output if it fails.
quietly() { "$@" >"$log" 2>&1 || fail "exit code $? from: $*"; }

step "cmake --install into $prefix"
quietly cmake --install "$build" --prefix "$prefix"
pc=$(find "$prefix" -path '*/pkgconfig/mltrack.pc')
[ -n "$pc" ] || fail "no pkgconfig/mltrack.pc under $prefix"
libdir=$(dirname "$(dirname "$pc")")
for file in bin/mlt include/mltrack/client.h include/mltrack/entities.h include/mltrack/error.h; do
  [ -f "$prefix/$file" ] || fail "$file is not installed"
done
for lib in client registry tracking models common; do
  [ -f "$libdir/libmltrack_$lib.a" ] || fail "libmltrack_$lib.a is not in $libdir"
done
for file in mltrackConfig.cmake mltrackConfigVersion.cmake mltrackTargets.cmake; do
  [ -f "$libdir/cmake/mltrack/$file" ] || fail "cmake/mltrack/$file is not in $libdir"
done
[ -x "$prefix/bin/mlt" ] || fail "the installed mlt is not executable"
if ldd "$prefix/bin/mlt" | grep -q 'not found'; then
  ldd "$prefix/bin/mlt" >"$log" 2>&1
  fail "the installed mlt misses shared libraries"
fi
mlt="$prefix/bin/mlt"
# Outside programs are compiled with the compiler that built mltrack.
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
cxx=${cxx:-c++}

step "mlt --version"
version=$(sed -nE 's/^project\(mltrack VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in $src/CMakeLists.txt"
quietly "$mlt" --version
grep -Eqx "mlt $version \(([0-9a-f]{12}|unknown)\)" "$log" ||
  fail "mlt --version does not read 'mlt $version (<12-hex commit>)'"
commit=$(sed -nE 's/^mlt [0-9.]+ \(([0-9a-f]{12}|unknown)\)$/\1/p' "$log")
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null ||
    fail "mlt --version names commit '$commit', which is not a commit of $src"
fi
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion mltrack)" = "$version" ] || fail "mltrack.pc's version is not $version"
grep -q "PACKAGE_VERSION \"$version\"" "$libdir/cmake/mltrack/mltrackConfigVersion.cmake" ||
  fail "mltrackConfigVersion.cmake's version is not $version"

step "examples/cpp-training: configure and build with find_package(mltrack)"
quietly cmake -S "$src/examples/cpp-training" -B "$work/cpp-training" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix"
quietly cmake --build "$work/cpp-training"
trainer="$work/cpp-training/cpp-training"

step "examples/cpp-training: train 3 epochs into sqlite:///$work/mlruns.db"
# The artifacts go to ./mlartifacts, next to the store.
cd "$work"
uri="sqlite:///$work/mlruns.db"
quietly "$trainer" --tracking-uri "$uri" --experiment install-test --run-name cpp-training-run \
  --epochs 3 --rows 1000 --seed 3
cat "$log"
[ "$(grep -Ec '^epoch +[1-3]/3  train_loss [0-9.]+  test_loss [0-9.]+  test_accuracy [0-9.]+$' \
  "$log")" -eq 3 ] || fail "three epoch lines"
run_id=$(sed -nE 's/^run ([0-9a-f]{32}) finished: .*/\1/p' "$log")
[ -n "$run_id" ] || fail "a 'run <id> finished' line"

step "the run in the store, through the installed mlt"
export MLT_TRACKING_URI="$uri"
quietly "$mlt" runs list --experiment install-test
grep -Eq "^$run_id  cpp-training-run  FINISHED " "$log" || fail "the run listed as FINISHED"
[ "$(grep -Ec '^[0-9a-f]{32} ' "$log")" -eq 1 ] || fail "exactly one run in install-test"
quietly "$mlt" runs get "$run_id"
for pattern in '^  epochs +3$' '^  rows +1000$' '^  seed +3$' '^  learning_rate +0\.1$' \
  '^  batch_size +32$' '^  optimizer +minibatch_sgd$' \
  '^  test_accuracy +[0-9.]+ +3$' '^  test_loss +[0-9.]+ +3$' '^  train_loss +[0-9.]+ +3$' \
  '^  test_auc +[0-9.]+ +3$' '^  example +cpp-training$' '^  model_type +logistic_regression$'; do
  grep -Eq -- "$pattern" "$log" || fail "runs get shows /$pattern/"
done
# The data's labels come from a logistic model a classifier can learn: after three epochs the
# test accuracy is well above chance (the best reachable is about 0.83).
accuracy=$(sed -nE 's/^  test_accuracy +([0-9.]+) +3$/\1/p' "$log")
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.7) }' || fail "test_accuracy $accuracy > 0.7"
quietly "$mlt" artifacts list --run-id "$run_id" --artifact-path model
grep -Eq '^model/weights\.json +[0-9]+$' "$log" || fail "the artifact model/weights.json"
quietly "$mlt" artifacts download --run-id "$run_id" --artifact-path model/weights.json \
  --dst-path "$work/downloaded"
weights=$(find "$work/downloaded" -name weights.json)
[ -n "$weights" ] || fail "model/weights.json downloaded"
cp "$weights" "$log"
grep -q '"model": "logistic_regression"' "$log" || fail "weights.json names its model"
# The true weights of x0 and x1 are +1.5 and -2: the learned ones have their signs.
grep -Eq '"weights": \[[0-9][^,]*, -[0-9]' "$log" || fail "weights.json: w0 > 0 and w1 < 0"

step "examples/cpp-training: bad input fails clearly and logs nothing"
expect_failure() {  # expected exit code, expected message (a fixed string), arguments...
  local code="$1" message="$2"
  shift 2
  local got=0
  "$trainer" "$@" >"$log" 2>&1 || got=$?
  [ "$got" -eq "$code" ] || fail "exit code $got, not $code, from cpp-training $*"
  grep -qF -- "$message" "$log" || fail "the message '$message' from cpp-training $*"
}
expect_failure 1 "cpp-training: error: Invalid tracking URI 'bogus://nowhere': the scheme 'bogus'" \
  --tracking-uri bogus://nowhere --experiment install-test --epochs 3
expect_failure 2 "cpp-training: error: --epochs must be at least 1, got 0" \
  --tracking-uri "$uri" --experiment install-test --epochs 0
expect_failure 2 "cpp-training: error: --epochs must be at least 1, got -2" \
  --tracking-uri "$uri" --experiment install-test --epochs -2
expect_failure 2 "cpp-training: error: --epochs expects an integer, got 'three'" \
  --tracking-uri "$uri" --experiment install-test --epochs three
quietly "$mlt" runs list --experiment install-test
[ "$(grep -Ec '^[0-9a-f]{32} ' "$log")" -eq 1 ] || fail "still one run in install-test"

step "tests/install/consumer: find_package, a logged and registered model"
quietly cmake -S "$src/tests/install/consumer" -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix"
quietly cmake --build "$work/consumer"
quietly "$work/consumer/consumer"
read -r consumer_run consumer_version <"$log"
[ "$consumer_version" = 1 ] || fail "the consumer registered version 1"
quietly "$mlt" runs get "$consumer_run"
grep -Eq '^  source +find_package$' "$log" || fail "the consumer's param"
grep -q "mlflow.log-model.history" "$log" || fail "the consumer's logged model"

step "pkg-config: compile once, link with --libs and with --libs --static"
read -r -a cflags <<<"$(pkg-config --cflags mltrack)"
read -r -a libs <<<"$(pkg-config --libs mltrack)"
read -r -a static_libs <<<"$(pkg-config --libs --static mltrack)"
for source_file in "$src/tests/install/consumer/consumer.cc" \
  "$src/tests/install/metric_history.cc"; do
  program=$(basename "$source_file" .cc)
  quietly "$cxx" -std=c++20 -O1 "${cflags[@]}" -c "$source_file" -o "$work/$program.o"
  quietly "$cxx" "$work/$program.o" -o "$work/$program-pc" "${libs[@]}"
  quietly "$cxx" "$work/$program.o" -o "$work/$program-pc-static" "${static_libs[@]}"
done
# Both consumers log a model and register it: versions 2 and 3 of the consumer's model.
quietly "$work/consumer-pc"
read -r _ v <"$log"
[ "$v" = 2 ] || fail "the pkg-config consumer registered version 2"
quietly "$work/consumer-pc-static"
read -r _ v <"$log"
[ "$v" = 3 ] || fail "the pkg-config --static consumer registered version 3"
# The trainer's loss curve, one point per epoch, read back through the client.
for history in metric_history-pc metric_history-pc-static; do
  quietly "$work/$history" "$run_id" train_loss test_accuracy
  for key in train_loss test_accuracy; do
    [ "$(grep -Ec "^$key [1-3] [0-9.e-]+$" "$log")" -eq 3 ] ||
      fail "$history: $key at steps 1, 2 and 3"
  done
done
got=0
"$work/metric_history-pc" 0123456789abcdef0123456789abcdef train_loss >"$log" 2>&1 || got=$?
if [ "$got" -ne 1 ] || ! grep -q "^metric_history: error: " "$log"; then
  fail "metric_history of an unknown run: exit 1 and an error, got exit $got"
fi

echo "install test: passed"
