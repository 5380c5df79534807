# Sourced by the trainer benchmarks (run_logistic_bench.sh, run_forest_bench.sh,
# run_als_bench.sh) from the repository root:
#   bench_setup <name> <build dir> <Debian packages of the peers...>
# checks that mlt is built, installs the peers that are missing, makes a work folder removed at
# exit with a tracking store in it, and prints the machine. It sets mlt, py (Debian's python,
# where the python3-* peers install), work and mpi (the mpirun launcher for 2 ranks).
bench_setup() {
  local name="$1" build="$2"
  shift 2
  mlt="$build/src/cli/mlt"
  [ -x "$mlt" ] || { echo "run_${name}_bench: build first ($mlt)" >&2; exit 1; }
  py=/usr/bin/python3
  local need=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
      >/dev/null
  fi
  work="${MLT_BENCH_DIR:-/var/tmp}/mlt-$name-bench-$$"
  mkdir -p "$work"
  trap 'rm -rf "$work"' EXIT
  export MLT_TRACKING_URI="sqlite:///$work/mlruns.db"
  mpi=(mpirun -np 2 --oversubscribe --allow-run-as-root)
  echo "== machine"
  echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p') x $(nproc)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
}
