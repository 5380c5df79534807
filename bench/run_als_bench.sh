#!/usr/bin/env bash
# ALS side by side, in one run: `mlt train als` against a straightforward reference ALS written
# here in numpy/scipy (Debian's python3-numpy and python3-scipy, on OpenBLAS from
# libopenblas0-pthread) at identical settings (explicit feedback, weighted-lambda regularisation
# as Spark MLlib, the same train/test files).
#   1. MovieLens latest-small (../shared/data/movielens-latest-small), a random 80/20 split made
#      once here: test RMSE at rank 10, lambda 0.15, 10 iterations (cold start: drop), and mlt
#      with biases at rank 20.
#   2. A generated ml-20m shape (138,493 users x 26,744 items, 20,000,263 ratings), rank 10:
#      seconds per iteration of mlt (median of iterations 2..10, median of three runs) and of the
#      reference (median of 3 iterations), and mlt's
#      against the arithmetic lower bound: the Gram accumulation, nnz * k^2 flops per
#      half-iteration (a symmetric rank-1 update is k^2 / 2 multiply-adds), plus
#      (users + items) * k^3 / 3 for the Cholesky solves, at the FLOP rate numpy's dgemm
#      (OpenBLAS) measures on this machine.
#   3. Implicit ALS on the same shape at rank 64 (conjugate gradient, 3 steps; and Cholesky):
#      seconds per iteration.
#   4. mpirun -np 2 against 1 process on the same shape: bytes sent per half-iteration and the
#      speedup per iteration.
#   bench/run_als_bench.sh [build dir, default build-test]   (installs the peers if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
source bench/trainer_bench_setup.sh
bench_setup als "$build" python3-numpy python3-scipy python3-pandas libopenblas0-pthread
echo "peers:  numpy $($py -c 'import numpy; print(numpy.__version__)'), scipy $($py -c 'import scipy; print(scipy.__version__)')"
echo

# The reference: explicit ALS with weighted-lambda regularisation, one dense k x k solve per user
# and per item, as the textbook (and Spark) writes it. Prints "seconds_per_iteration test_rmse".
reference_als() {  # train.csv test.csv rank reg iterations
  "$py" - "$@" <<'PY'
import sys, time
import numpy as np, pandas as pd, scipy.sparse as sp
train, test = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
k, lam, iters = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
cols = list(train.columns)
u_ids, u = np.unique(train[cols[0]].to_numpy(), return_inverse=True)
i_ids, i = np.unique(train[cols[1]].to_numpy(), return_inverse=True)
r = train[cols[2]].to_numpy(dtype=np.float64)
R = sp.csr_matrix((r, (u, i)), shape=(len(u_ids), len(i_ids)))
Rt = R.T.tocsr()
rng = np.random.default_rng(42)
X = rng.normal(size=(len(u_ids), k)) / np.sqrt(k)
Y = rng.normal(size=(len(i_ids), k)) / np.sqrt(k)
def half(M, F):
    out = np.zeros((M.shape[0], k))
    for a in range(M.shape[0]):
        lo, hi = M.indptr[a], M.indptr[a + 1]
        if lo == hi:
            continue
        Fi = F[M.indices[lo:hi]]
        A = Fi.T @ Fi + lam * (hi - lo) * np.eye(k)
        out[a] = np.linalg.solve(A, Fi.T @ M.data[lo:hi])
    return out
times = []
for _ in range(iters):
    t = time.perf_counter()
    X = half(R, Y)
    Y = half(Rt, X)
    times.append(time.perf_counter() - t)
tu = np.searchsorted(u_ids, test[cols[0]].to_numpy())
ti = np.searchsorted(i_ids, test[cols[1]].to_numpy())
known = (tu < len(u_ids)) & (ti < len(i_ids))
known[known] &= (u_ids[tu[known]] == test[cols[0]].to_numpy()[known]) & \
                (i_ids[ti[known]] == test[cols[1]].to_numpy()[known])
pred = np.einsum("ij,ij->i", X[tu[known]], Y[ti[known]])
rmse = np.sqrt(np.mean((pred - test[cols[2]].to_numpy()[known]) ** 2))
print(f"{np.median(times):.3f} {rmse:.4f}")
PY
}

# mlt train als ...; prints "median_iteration_seconds test_rmse bytes_users bytes_items fit_seconds"
mlt_als() {  # [launcher...] -- mlt args...
  local launcher=()
  while [ "$1" != "--" ]; do launcher+=("$1"); shift; done
  shift
  local out run
  out=$("${launcher[@]}" "$mlt" train als "$@" --experiment bench)
  run=$(sed -n 's/^Run \([0-9a-f]*\);.*/\1/p' <<<"$out")
  "$mlt" runs get "$run" --json | "$py" -c '
import json, sys
m = {x["key"]: x["value"] for x in json.load(sys.stdin)["run"]["data"]["metrics"]}
rmse = "%.4f" % m["test_rmse"] if "test_rmse" in m else "-"
print("%.3f %s %d %d %.1f" % (m["median_iteration_seconds"], rmse,
      m["bytes_sent_per_user_half_iteration"], m["bytes_sent_per_item_half_iteration"],
      m["fit_seconds"]))'
}

# --- 1. MovieLens latest-small ---------------------------------------------------------------
ml=../shared/data/movielens-latest-small/ratings.csv
if [ -f "$ml" ]; then
  "$py" - "$ml" "$work" <<'PY'
import sys
import numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1])
mask = np.random.default_rng(7).random(len(df)) < 0.2
df[~mask].to_csv(f"{sys.argv[2]}/ml-train.csv", index=False)
df[mask].to_csv(f"{sys.argv[2]}/ml-test.csv", index=False)
PY
  read -r _ m_rmse _ _ _ <<<"$(mlt_als -- --ratings "$work/ml-train.csv" --test "$work/ml-test.csv" \
    --rank 10 --reg 0.15 --max-iter 10 --cold-start drop)"
  read -r _ b_rmse _ _ _ <<<"$(mlt_als -- --ratings "$work/ml-train.csv" --test "$work/ml-test.csv" \
    --rank 20 --reg 0.15 --max-iter 15 --biases --cold-start drop)"
  read -r _ r_rmse <<<"$(reference_als "$work/ml-train.csv" "$work/ml-test.csv" 10 0.15 10)"
  echo "== MovieLens latest-small, random 80/20 (test RMSE, unknown users/items left out)"
  printf "  %-44s %s\n" "mlt, rank 10, lambda 0.15, 10 iterations" "$m_rmse"
  printf "  %-44s %s\n" "reference ALS, same settings" "$r_rmse"
  printf "  %-44s %s\n" "mlt with biases, rank 20, lambda 0.15, 15 it." "$b_rmse"
  echo
fi

# --- 2-4. the ml-20m shape ---------------------------------------------------------------------
"$mlt" datasets generate ratings --users 138493 --items 26744 --ratings 20000263 --seed 1 \
  -o "$work/ml20m.csv" >/dev/null
"$py" - "$work" <<'PY'
import sys
import pandas as pd
df = pd.read_csv(f"{sys.argv[1]}/ml20m.csv")
df.sample(n=100000, random_state=1).to_csv(f"{sys.argv[1]}/ml20m-probe.csv", index=False)
PY
# Three runs of 10 iterations; the median of their medians (this machine is shared and noisy).
e_runs=()
for _ in 1 2 3; do
  read -r e_one _ _ _ _ <<<"$(mlt_als -- --ratings "$work/ml20m.csv" --rank 10 --reg 0.1 --max-iter 10)"
  e_runs+=("$e_one")
done
e_it=$(printf '%s\n' "${e_runs[@]}" | sort -n | sed -n 2p)
read -r p_it _ p_bu p_bi p_fit <<<"$(mlt_als "${mpi[@]}" -- --ratings "$work/ml20m.csv" --rank 10 \
  --reg 0.1 --max-iter 5 --threads 1)"
read -r r_it _ <<<"$(reference_als "$work/ml20m.csv" "$work/ml20m-probe.csv" 10 0.1 3)"
read -r i_it _ _ _ _ <<<"$(mlt_als -- --ratings "$work/ml20m.csv" --implicit --alpha 40 --rank 64 \
  --reg 0.1 --max-iter 3 --solver cg)"
read -r c_it _ _ _ _ <<<"$(mlt_als -- --ratings "$work/ml20m.csv" --implicit --alpha 40 --rank 64 \
  --reg 0.1 --max-iter 3 --solver cholesky)"
rate=$("$py" -c '
import time, numpy as np
a = np.random.default_rng(0).random((3000, 3000)); a @ a
best = min((lambda t: (a @ a, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(3))
print("%.3e" % (2 * 3000 ** 3 / best))')
bound=$(awk -v r="$rate" 'BEGIN { nnz = 20000263; k = 10; n = 138493 + 26744
  printf "%.3f", (2 * nnz * k * k + n * k * k * k / 3) / r }')
echo "== generated ml-20m shape: 138,493 users x 26,744 items, 20,000,263 ratings"
printf "  %-52s %8s s  (runs: %s)\n" "mlt explicit rank 10, per iteration (1 process)" "$e_it" \
  "${e_runs[*]}"
printf "  %-52s %8s s\n" "reference ALS, per iteration" "$r_it"
awk -v m="$e_it" -v r="$r_it" 'BEGIN { printf "  reference / mlt: %.1fx faster\n", r / m }'
printf "  %-52s %8s s  (dgemm %s FLOP/s)\n" "arithmetic lower bound per iteration" "$bound" "$rate"
awk -v m="$e_it" -v b="$bound" 'BEGIN { printf "  mlt / lower bound: %.1fx\n", m / b }'
printf "  %-52s %8s s\n" "mlt implicit rank 64 (cg, 3 steps), per iteration" "$i_it"
printf "  %-52s %8s s\n" "mlt implicit rank 64 (cholesky), per iteration" "$c_it"
printf "  %-52s %8s s\n" "mlt explicit rank 10, mpirun -np 2, per iteration" "$p_it"
awk -v m="$e_it" -v p="$p_it" 'BEGIN { printf "  mpirun -np 2 speedup: %.2fx\n", m / p }'
printf "  bytes sent per half-iteration (largest rank): users %s, items %s\n" "$p_bu" "$p_bi"
