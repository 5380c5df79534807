#!/usr/bin/env bash
# The web app's speed targets, measured in Debian's Chromium against `mlt ui` on a database of
# 100,000 runs and a 1,000,000-step metric (bench/ui/ui_bench_seed.cc; seeding takes ~15 s):
# the leaderboard's first page (<= 1 s), a sort by metric (<= 300 ms), a filter, the next page,
# and the chart of the long metric (<= 1 s, spikes intact) — see bench/ui/ui_bench.mjs. The same
# requests are also timed at the REST API with curl, to tell server from browser time.
# MLflow's UI cannot be installed here (no PyPI), so there is no peer in this run.
#   bench/run_ui_bench.sh [build dir, default build-test] [repeats, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
repeats="${2:-5}"
source bench/trainer_bench_setup.sh
bench_setup ui "$build"
echo "node:   $(node --version)"
seed="$build/bench/ui_bench_seed"
[ -x "$seed" ] || { echo "run_ui_bench: build the benchmarks first ($seed)" >&2; exit 1; }

echo
echo "== seeding"
ids=$("$seed" "$work/mlruns.db" "${MLT_UI_BENCH_RUNS:-100000}" "${MLT_UI_BENCH_STEPS:-1000000}")
leaderboard=$(sed -n 's/^leaderboard=//p' <<<"$ids")
history_run=$(sed -n 's/^history_run=//p' <<<"$ids")

port=$((20000 + RANDOM % 20000))
"$mlt" ui --backend-store-uri "sqlite:///$work/mlruns.db" --artifacts-destination "$work/art" \
  --port "$port" >"$work/ui.log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null; rm -rf "$work"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  curl -sf "$url/health" >/dev/null && break
  sleep 0.05
done

echo
echo "== REST API (curl, median of 5)"
api="$url/ajax-api/2.0/mlflow"
time_request() {  # label, then curl arguments
  local label="$1" times=()
  shift
  for _ in 1 2 3 4 5; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$@")")
  done
  printf '%-44s %s ms\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1 * 1000}')"
}
search() {
  time_request "$1" -X POST -H 'Content-Type: application/json' -d "$2" "$api/runs/search"
}
search "runs/search first page (top-level runs)" \
  "{\"experiment_ids\":[\"$leaderboard\"],\"max_results\":100,\"filter\":\"tags.mlflow.parentRunId IS NULL\"}"
search "runs/search by metrics.rmse" \
  "{\"experiment_ids\":[\"$leaderboard\"],\"max_results\":100,\"filter\":\"tags.mlflow.parentRunId IS NULL\",\"order_by\":[\"metrics.rmse ASC\"]}"
time_request "runs/columns (keys of 100,000 runs)" \
  "$url/ajax-api/2.0/mltrack/runs/columns?experiment_ids=$leaderboard"
time_request "get-history-bulk-interval, 1,000,000 steps" \
  "$api/metrics/get-history-bulk-interval?run_ids=$history_run&metric_key=loss&max_results=1000"

echo
echo "== in the browser (median of $repeats)"
node bench/ui/ui_bench.mjs "$url" "$leaderboard" "$history_run" "$repeats"
