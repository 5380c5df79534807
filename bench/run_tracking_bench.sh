#!/usr/bin/env bash
# Runs the tracking store benchmarks and prints the machine, the figures, the targets of the
# Foundation issue and the ratio against MLflow 2.17's figures on this kind of machine.
# MLflow cannot be installed here (no PyPI), so its figures are the recorded ones, not measured in
# this run.
#   bench/run_tracking_bench.sh [build dir, default build-test]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
bin="$build/bench/tracking_store_bench"
[ -x "$bin" ] || { echo "run_tracking_bench: build first (scripts/test.sh builds $bin)" >&2; exit 1; }

echo "== machine"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p') x $(nproc)"
echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
echo "kernel: $(uname -sr)"
echo "disk:   $(df -h "${MLT_BENCH_DIR:-/var/tmp}" | awk 'NR==2 {print $1 " (" $2 ")"}') for the database"
echo "sqlite: WAL, synchronous=NORMAL, 32 MiB page cache"
echo

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" --benchmark_out="$out" --benchmark_out_format=csv >/dev/null 2>&1
echo "== figures (medians where repeated)"
awk -F, '
  function row(name) { for (i in rows) if (index(rows[i], name) == 2) return rows[i]; return "" }
  /^"BM_/ { rows[NR] = $0 }
  END {
    split(row("BM_LogBatch/1000"), a, ",");        lb = a[7] + 0
    split(row("BM_CreateRuns/10000"), b, ",");     cr = b[7] + 0
    split(row("BM_SearchRuns/10000/repeats:5_median"), c, ","); se = c[3] + 0
    split(row("BM_MetricHistory/100000/repeats:5_median"), d, ","); hi = d[3] + 0
    split(row("BM_LeaderboardFirstPage/100000/repeats:5_median"), e, ","); lf = e[3] + 0
    split(row("BM_LeaderboardSortByMetric/100000/repeats:5_median"), f, ","); ls = f[3] + 0
    printf "%-38s %14s %14s %16s %10s\n", "benchmark", "mltrack", "target", "MLflow 2.17", "ratio"
    printf "%-38s %11.0f /s %11s /s %13s /s %9.0fx\n", "log_batch 1000 metrics (metrics/s)", lb, "500,000", "5,000-9,000", lb / 9000
    printf "%-38s %11.0f /s %11s /s %13s /s %9.0fx\n", "create 10,000 runs (runs/s)", cr, "5,000", "44", cr / 44
    printf "%-38s %11.2f ms %11s ms %13s ms %9.0fx\n", "search 10,000 runs, 100 results", se, "10", "1,000", 1000 / se
    printf "%-38s %11.2f ms %11s ms %13s ms %9.0fx\n", "history of 100,000 steps", hi, "50", "5,100", 5100 / hi
    printf "%-38s %11.2f ms %11s ms %13s    %9s\n", "100,000 runs: first page of 100", lf, "1,000", "-", "-"
    printf "%-38s %11.2f ms %11s ms %13s    %9s\n", "100,000 runs: sorted by a metric", ls, "300", "-", "-"
  }' "$out"
