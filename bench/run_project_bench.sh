#!/usr/bin/env bash
# The overhead of `mlt run` over running the same command directly: a trivial entry point
# (`true`) run 20 times each way, medians in ms (the issue's bar: overhead <= 50 ms). Also, for
# reading the figure: `mlt --version` (starting the binary alone) and `mlt run` of the same
# project inside a git work tree (git status and the commit recorded). The tracking store is a
# fresh SQLite database on disk; the project is not in the project cache path (run in place).
#   bench/run_project_bench.sh [build dir, default build-test]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
source bench/trainer_bench_setup.sh
bench_setup project "$build"
echo "bash:   $BASH_VERSION"
echo

repeats=20
mkdir -p "$work/plain" "$work/repo"
cat >"$work/plain/MLproject" <<'YAML'
name: trivial
entry_points:
  main:
    command: "true"
YAML
cp "$work/plain/MLproject" "$work/repo/MLproject"
git -C "$work/repo" init -q
git -C "$work/repo" -c user.name=bench -c user.email=bench@localhost add MLproject
git -C "$work/repo" -c user.name=bench -c user.email=bench@localhost commit -q -m trivial

# time_ms CMD...: the wall time of one run in ms (bash's clock: no process started to read it).
time_ms() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  end=$EPOCHREALTIME
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}
# median_ms CMD...: the median of $repeats runs, after one unmeasured run (page cache, database).
median_ms() {
  "$@" >/dev/null 2>&1
  local i
  for ((i = 0; i < repeats; i++)); do time_ms "$@"; done | sort -n |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                              printf "%.1f", m }'
}

direct=$(cd "$work/plain" && median_ms bash -c true)
version=$(median_ms "$mlt" --version)
plain=$(median_ms "$mlt" run "$work/plain")
repo=$(median_ms "$mlt" run "$work/repo")
runs=$("$mlt" runs list --max-results 1000 | tail -n +2 | wc -l)
expected=$((2 * (repeats + 1)))
[ "$runs" -eq "$expected" ] || { echo "expected $expected runs, found $runs" >&2; exit 1; }

echo "== figures: medians of $repeats runs (ms)"
printf "%-52s %8s\n" "what" "ms"
printf "%-52s %8s\n" "bash -c true in the project folder (direct)" "$direct"
printf "%-52s %8s\n" "mlt --version (starting the binary)" "$version"
printf "%-52s %8s\n" "mlt run <folder> (entry point: true)" "$plain"
printf "%-52s %8s\n" "mlt run <git work tree> (entry point: true)" "$repo"
echo
awk -v d="$direct" -v p="$plain" -v r="$repo" 'BEGIN {
  printf "overhead of mlt run over the direct command: %.1f ms (bar: <= 50 ms)\n", p - d
  printf "overhead in a git work tree:                 %.1f ms\n", r - d
  printf "ratio mlt run / direct:                      %.1fx\n", p / d }'
