#!/usr/bin/env bash
# Runs the bundle benchmarks and, in the same run, their peers on the same 64 MiB of float64:
# numpy's np.save / np.load (+ zlib.crc32, as an array file read checks its CRC) from Debian's
# python3-numpy, and GNU tar + gzip for the archive. Prints the machine, the medians and ratios.
#   bench/run_bundle_bench.sh [build dir, default build-test]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
bin="$build/bench/bundle_bench"
[ -x "$bin" ] || { echo "run_bundle_bench: build first (scripts/test.sh builds $bin)" >&2; exit 1; }
py=/usr/bin/python3   # Debian's python, where python3-numpy installs
work="${MLT_BENCH_DIR:-/var/tmp}/mlt-bundle-peer-$$"
mkdir -p "$work"
out=$(mktemp)
trap 'rm -rf "$work" "$out"' EXIT

echo "== machine"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p') x $(nproc)"
echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
echo "disk:   $(df -h "${MLT_BENCH_DIR:-/var/tmp}" | awk 'NR==2 {print $1 " (" $2 ")"}')"
echo

"$bin" --benchmark_out="$out" --benchmark_out_format=csv >/dev/null 2>&1
median() { awk -F, -v n="\"$1/repeats:5_median\"" '$1 == n {print $3}' "$out"; }

# The peers, medians of 5, in ms.
peer=$("$py" - "$work" <<'PY' 2>/dev/null || echo "- - - -"
import statistics, subprocess, sys, time, zlib
import numpy as np
work = sys.argv[1]
a = np.random.default_rng(42).normal(size=8 << 20)
def med(f):
    times = []
    for _ in range(5):
        t = time.perf_counter(); f(); times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)
save = med(lambda: np.save(f"{work}/a.npy", a))
load = med(lambda: zlib.crc32(np.load(f"{work}/a.npy")))
subprocess.run(["mkdir", "-p", f"{work}/bundle"], check=True)
a.tofile(f"{work}/bundle/matrix.bin")
tar_c = med(lambda: subprocess.run(["tar", "-C", work, "-czf", f"{work}/b.tar.gz", "bundle"], check=True))
def untar():
    subprocess.run(["rm", "-rf", f"{work}/x"], check=True)
    subprocess.run(["mkdir", f"{work}/x"], check=True)
    subprocess.run(["tar", "-C", f"{work}/x", "-xzf", f"{work}/b.tar.gz"], check=True)
tar_x = med(untar)
print(f"{save:.1f} {load:.1f} {tar_c:.1f} {tar_x:.1f}")
PY
)
read -r np_save np_load tar_c tar_x <<<"$peer"

echo "== figures: 64 MiB of float64, medians of 5 (ms); ratio = peer time / mltrack time"
printf "%-44s %10s %26s %8s\n" "benchmark" "mltrack" "peer" "ratio"
row() {
  local name="$1" ours="$2" peer_name="$3" theirs="$4"
  local ratio="-"
  [ "$theirs" != "-" ] && ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2fx", b / a}')
  printf "%-44s %10.1f %17s %8s %8s\n" "$name" "$ours" "$peer_name" "$theirs" "$ratio"
}
row "write array file (temp + fsync + rename)" "$(median BM_WriteArrayFile/64)" "np.save" "$np_save"
row "read array file (CRC-32 checked)" "$(median BM_ReadArrayFile/64)" "np.load+crc32" "$np_load"
row "export bundle .tar.gz" "$(median BM_ExportBundle/64)" "tar -czf" "$tar_c"
row "import bundle (checked)" "$(median BM_ImportBundle/64)" "tar -xzf" "$tar_x"
printf "%-44s %10.2f\n" "load models:/bench@prod (512 KiB, SQLite)" "$(median BM_LoadModelsUri)"
