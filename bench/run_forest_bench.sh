#!/usr/bin/env bash
# Random forests side by side, in one run, on the same files and the same forest shape:
#   mlt train forest (1 process; and mpirun -np 2 on the small set), scikit-learn's
#   RandomForestClassifier/Regressor(n_jobs=2) from Debian's python3-sklearn, and R's ranger
#   (r-cran-ranger, num.threads=2).
# Forests: 100 trees, max depth 16, bootstrap, leaves down to one row (ranger min.node.size=1);
# classification draws 5 of the 28 features per node for everyone (sklearn max_features="sqrt"
# and ranger mtry=floor(sqrt(28)) are 5; mlt's "sqrt" is Spark's ceil, 6, so mlt gets
# --feature-subset 5). mlt splits on 32 quantile bins per feature (Spark's default), the
# peers on exact values.
# Data: a generated 1,000,000 x 28 binary set, the first 800,000 rows to train, the last 200,000
# to test; its first 100,000 rows (80,000 / 20,000); and SF Airbnb prices (regression,
# ../shared/data/sf-airbnb) split 80/20 once, by a fixed seed, into files all three read
# (categoricals: native for mlt and ranger, one-hot for scikit-learn; a third of the columns per
# node for everyone, mlt --max-bins 40 for its 36 neighbourhoods).
# Then the single-row prediction latency of bench/forest_predict_bench.
#   bench/run_forest_bench.sh [build dir, default build-test]   (installs the peers if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
source bench/trainer_bench_setup.sh
bench_setup forest "$build" python3-sklearn python3-pandas r-cran-ranger
echo "peers:  scikit-learn $($py -c 'import sklearn; print(sklearn.__version__)'), ranger $(dpkg-query -W -f='${Version}' r-cran-ranger) (R $(dpkg-query -W -f='${Version}' r-base-core))"
echo

# --- data -----------------------------------------------------------------------------------
"$mlt" datasets generate classification --rows 1000000 --features 28 --informative 10 \
  --redundant 4 --seed 7 -o "$work/big.csv" >/dev/null
head -n 800001 "$work/big.csv" >"$work/big-train.csv"
{ head -n 1 "$work/big.csv"; tail -n 200000 "$work/big.csv"; } >"$work/big-test.csv"
head -n 80001 "$work/big.csv" >"$work/small-train.csv"
{ head -n 1 "$work/big.csv"; sed -n '80002,100001p' "$work/big.csv"; } >"$work/small-test.csv"
airbnb=../shared/data/sf-airbnb/sf-airbnb-clean.csv
have_airbnb=0
if [ -f "$airbnb" ]; then
  have_airbnb=1
  "$py" - "$airbnb" "$work" <<'PY'
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1]).sample(frac=1.0, random_state=42).reset_index(drop=True)
cut = int(len(df) * 0.8)
df.iloc[:cut].to_csv(f"{sys.argv[2]}/airbnb-train.csv", index=False)
df.iloc[cut:].to_csv(f"{sys.argv[2]}/airbnb-test.csv", index=False)
PY
fi

# --- mltrack --------------------------------------------------------------------------------
# Prints "fit_seconds <test metric>" from the run's metrics.
mlt_fit() {  # name label metric [launcher...] -- [extra mlt options...]
  local name="$1" label="$2" metric="$3"; shift 3
  local launcher=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do launcher+=("$1"); shift; done
  shift
  local out run
  out=$(${launcher[@]+"${launcher[@]}"} "$mlt" train forest --data "$work/$name-train.csv" \
        --test "$work/$name-test.csv" --label "$label" --num-trees 100 --max-depth 16 \
        --experiment bench "$@")
  run=$(sed -n 's/^Run \([0-9a-f]*\);.*/\1/p' <<<"$out")
  "$mlt" runs get "$run" --json | "$py" -c '
import json, sys
m = {x["key"]: x["value"] for x in json.load(sys.stdin)["run"]["data"]["metrics"]}
print("%.3f %.6f" % (m["fit_seconds"], m["test_" + sys.argv[1]]))' "$metric"
}

# --- scikit-learn and ranger --------------------------------------------------------------------
sk_fit() {  # name label task
  "$py" - "$work/$1-train.csv" "$work/$1-test.csv" "$2" "$3" <<'PY'
import sys, time
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import roc_auc_score, mean_squared_error
train, test = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
label, task = sys.argv[3], sys.argv[4]
y, yt = train.pop(label).to_numpy(), test.pop(label).to_numpy()
both = pd.get_dummies(pd.concat([train, test]), dtype=float)  # one-hot; same columns for both
X, Xt = both.iloc[:len(train)].to_numpy(), both.iloc[len(train):].to_numpy()
if task == "classification":
    model = RandomForestClassifier(n_estimators=100, max_depth=16, max_features="sqrt",
                                   n_jobs=2, random_state=0)
else:
    model = RandomForestRegressor(n_estimators=100, max_depth=16, max_features=1 / 3,
                                  n_jobs=2, random_state=0)
t = time.perf_counter()
model.fit(X, y)
fit = time.perf_counter() - t
if task == "classification":
    score = roc_auc_score(yt, model.predict_proba(Xt)[:, 1])
else:
    score = float(np.sqrt(mean_squared_error(yt, model.predict(Xt))))
print(f"{fit:.3f} {score:.6f}")
PY
}

ranger_fit() {  # name label task mtry
  # tail: ranger may print progress to stdout despite verbose = FALSE.
  Rscript --vanilla - "$work/$1-train.csv" "$work/$1-test.csv" "$2" "$3" "$4" <<'R' | tail -n 1
suppressMessages(library(ranger))
a <- commandArgs(trailingOnly = TRUE)
train <- read.csv(a[1], stringsAsFactors = TRUE)
test <- read.csv(a[2], stringsAsFactors = TRUE)
label <- a[3]; task <- a[4]; mtry <- as.integer(a[5])
for (col in names(test)) if (is.factor(train[[col]])) test[[col]] <- factor(test[[col]], levels = levels(train[[col]]))
if (task == "classification") train[[label]] <- factor(train[[label]])
f <- as.formula(paste(label, "~ ."))
t <- proc.time()[["elapsed"]]
model <- ranger(f, data = train, num.trees = 100, max.depth = 16, mtry = mtry, min.node.size = 1,
                probability = task == "classification", respect.unordered.factors = "order",
                num.threads = 2, seed = 1, verbose = FALSE)
fit <- proc.time()[["elapsed"]] - t
p <- predict(model, data = test, num.threads = 2, verbose = FALSE)$predictions
y <- test[[label]]
if (task == "classification") {
  s <- p[, "1"]; pos <- y == 1
  n1 <- as.numeric(sum(pos)); n0 <- as.numeric(sum(!pos))  # n1 * n0 overflows integers
  score <- (sum(rank(s)[pos]) - n1 * (n1 + 1) / 2) / (n1 * n0)
} else {
  score <- sqrt(mean((p - y)^2))
}
cat(sprintf("%.3f %.6f\n", fit, score))
R
}

report() {  # title metric mlt sk ranger [mlt under mpirun]
  local title="$1" metric="$2"
  read -r m_fit m_s <<<"$3"
  read -r s_fit s_s <<<"$4"
  read -r r_fit r_s <<<"$5"
  echo "== $title (fit seconds, test $metric)"
  printf "  %-28s %8s %10s\n" "" "fit s" "$metric"
  printf "  %-28s %8s %10s\n" "mlt, 1 process" "$m_fit" "$m_s"
  if [ -n "${6:-}" ]; then
    read -r p_fit p_s <<<"$6"
    printf "  %-28s %8s %10s\n" "mlt, mpirun -np 2" "$p_fit" "$p_s"
  fi
  printf "  %-28s %8s %10s\n" "scikit-learn (n_jobs=2)" "$s_fit" "$s_s"
  printf "  %-28s %8s %10s\n" "ranger (num.threads=2)" "$r_fit" "$r_s"
  awk -v m="$m_fit" -v s="$s_fit" -v r="$r_fit" -v a="$m_s" -v b="$s_s" -v c="$r_s" -v k="$metric" 'BEGIN {
    printf "  mlt / scikit-learn fit time: %.2fx   %s difference: %+.4f\n", m / s, k, a - b
    printf "  mlt / ranger fit time:       %.2fx   %s difference: %+.4f\n", m / r, k, a - c }'
  echo
}

report "binary, 800,000 x 28, 100 trees, depth 16, 5 features per node" roc_auc \
  "$(mlt_fit big label roc_auc -- --feature-subset 5)" \
  "$(sk_fit big label classification)" "$(ranger_fit big label classification 5)"
report "binary, 80,000 x 28, 100 trees, depth 16, 5 features per node" roc_auc \
  "$(mlt_fit small label roc_auc -- --feature-subset 5)" \
  "$(sk_fit small label classification)" "$(ranger_fit small label classification 5)" \
  "$(mlt_fit small label roc_auc "${mpi[@]}" -- --feature-subset 5 --threads 1)"
if [ "$have_airbnb" = 1 ]; then
  report "SF Airbnb price, $(($(wc -l <"$work/airbnb-train.csv") - 1)) rows, 100 trees, depth 16, a third of the columns per node" rmse \
    "$(mlt_fit airbnb price rmse -- --task regression --feature-subset onethird --max-bins 40)" \
    "$(sk_fit airbnb price regression)" "$(ranger_fit airbnb price regression 11)"
fi

# --- prediction latency -------------------------------------------------------------------------
bin="$build/bench/forest_predict_bench"
echo "== single-row prediction latency (bench/forest_predict_bench)"
if [ -x "$bin" ]; then
  # One row through PredictRow (encoded) and through Predict (a Table, as a scoring request).
  "$bin" --benchmark_filter='^BM_ForestPredict(Row|Table)' 2>/dev/null \
    | sed -n '/^BM_/s/^/  /p'
else
  echo "  (not built: make forest_predict_bench)"
fi
