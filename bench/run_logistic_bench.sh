#!/usr/bin/env bash
# Logistic regression side by side, in one run, on the same files and the same objective:
#   mlt train logistic (1 process, and mpirun -np 2), scikit-learn's LogisticRegression(lbfgs)
#   from Debian's python3-sklearn, and liblinear-train -s 0 (liblinear-tools).
# Data: generated 1,000,000 x 28 sets (binary and 5 classes), the first 800,000 rows to train,
# the last 200,000 to test; and UCI Adult (../shared/data/adult) with one-hot categoricals.
# Regularisation: scikit-learn's C = 1 is reg = 1 / (C * n_train) on the raw coefficients
# (--no-standardize) here; liblinear -c 1 is the same objective up to its penalised bias.
#   bench/run_logistic_bench.sh [build dir, default build-test]   (installs the peers if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-test}"
source bench/trainer_bench_setup.sh
bench_setup logistic "$build" python3-sklearn python3-pandas liblinear-tools
echo "peers:  scikit-learn $($py -c 'import sklearn; print(sklearn.__version__)'), liblinear $(dpkg-query -W -f='${Version}' liblinear-tools)"
echo

# --- data -----------------------------------------------------------------------------------
gen() {  # name classes
  "$mlt" datasets generate classification --rows 1000000 --features 28 --informative 10 \
    --redundant 4 --classes "$2" --seed 7 -o "$work/$1.csv" >/dev/null
  head -n 800001 "$work/$1.csv" >"$work/$1-train.csv"
  { head -n 1 "$work/$1.csv"; tail -n 200000 "$work/$1.csv"; } >"$work/$1-test.csv"
}
gen binary 2
gen multi 5
adult=../shared/data/adult
have_adult=0
if [ -f "$adult/adult.data" ]; then
  have_adult=1
  sed -e '/^\s*$/d' "$adult/adult.data" >"$work/adult-train.csv"
  # adult.test: a comment first line, and labels that end with "."
  tail -n +2 "$adult/adult.test" | sed -e '/^\s*$/d' -e 's/\.$//' >"$work/adult-test.csv"
fi

# --- mltrack --------------------------------------------------------------------------------
# Prints "fit_seconds test_log_loss test_accuracy iterations" from the run's metrics.
mlt_fit() {  # name label reg [launcher...]
  local name="$1" label="$2" reg="$3"; shift 3
  local out
  out=$("$@" "$mlt" train logistic --data "$work/$name-train.csv" --test "$work/$name-test.csv" \
        --label "$label" --reg "$reg" --no-standardize --max-iter 500 --tol 1e-7 \
        --experiment bench ${MLT_EXTRA:-})
  local run
  run=$(sed -n 's/^Run \([0-9a-f]*\);.*/\1/p' <<<"$out")
  "$mlt" runs get "$run" --json | "$py" -c '
import json, sys
m = {x["key"]: x["value"] for x in json.load(sys.stdin)["run"]["data"]["metrics"]}
print("%.3f %.6f %.4f %d" % (m["fit_seconds"], m["test_log_loss"], m["test_accuracy"], m["iterations"]))'
}

# --- scikit-learn and liblinear ---------------------------------------------------------------
sk_fit() {  # name label
  "$py" - "$work/$1-train.csv" "$work/$1-test.csv" "$2" <<'PY'
import sys, time
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, accuracy_score
train, test = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
label = sys.argv[3]
X, y = train.drop(columns=[label]).to_numpy(), train[label].to_numpy()
Xt, yt = test.drop(columns=[label]).to_numpy(), test[label].to_numpy()
t = time.perf_counter()
model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000).fit(X, y)
fit = time.perf_counter() - t
p = model.predict_proba(Xt)
print(f"{fit:.3f} {log_loss(yt, p):.6f} {accuracy_score(yt, model.classes_[p.argmax(1)]):.4f} {int(model.n_iter_.max())}")
PY
}

ll_fit() {  # name label
  "$py" - "$work/$1-train.csv" "$work/$1-test.csv" "$2" "$work" <<'PY'
import sys
import pandas as pd
work = sys.argv[4]
for src, dst in ((sys.argv[1], "train.svm"), (sys.argv[2], "test.svm")):
    df = pd.read_csv(src)
    y = df.pop(sys.argv[3]).to_numpy()
    with open(f"{work}/{dst}", "w") as out:
        for label, row in zip(y, df.to_numpy()):
            out.write(f"{label} " + " ".join(f"{j + 1}:{v:.17g}" for j, v in enumerate(row)) + "\n")
PY
  local start end
  start=$(date +%s.%N)
  liblinear-train -s 0 -c 1 -B 1 -q "$work/train.svm" "$work/ll.model"
  end=$(date +%s.%N)
  liblinear-predict -b 1 "$work/test.svm" "$work/ll.model" "$work/ll.out" >/dev/null
  "$py" - "$work/test.svm" "$work/ll.out" "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" <<'PY'
import sys
import numpy as np
from sklearn.metrics import log_loss, accuracy_score
y = np.array([int(float(l.split(" ", 1)[0])) for l in open(sys.argv[1])])
lines = open(sys.argv[2]).read().split("\n")
labels = [int(v) for v in lines[0].split()[1:]]
rows = [l.split() for l in lines[1:] if l]
p = np.array([[float(v) for v in r[1:]] for r in rows])
order = np.argsort(labels)
p, classes = p[:, order], np.array(labels)[order]
print(f"{float(sys.argv[3]):.3f} {log_loss(y, p, labels=classes):.6f} {accuracy_score(y, classes[p.argmax(1)]):.4f} -")
PY
}

report() {  # title mlt1 mlt2 sk ll
  local title="$1"
  read -r m_fit m_ll m_acc m_it <<<"$2"
  read -r p_fit p_ll p_acc p_it <<<"$3"
  read -r s_fit s_ll s_acc s_it <<<"$4"
  echo "== $title (fit seconds, test log loss, test accuracy, iterations)"
  printf "  %-28s %8s %10s %9s %6s\n" "" "fit s" "log loss" "accuracy" "iters"
  printf "  %-28s %8s %10s %9s %6s\n" "mlt, 1 process" "$m_fit" "$m_ll" "$m_acc" "$m_it"
  printf "  %-28s %8s %10s %9s %6s\n" "mlt, mpirun -np 2" "$p_fit" "$p_ll" "$p_acc" "$p_it"
  printf "  %-28s %8s %10s %9s %6s\n" "scikit-learn lbfgs" "$s_fit" "$s_ll" "$s_acc" "$s_it"
  if [ -n "${5:-}" ]; then
    read -r l_fit l_ll l_acc l_it <<<"$5"
    printf "  %-28s %8s %10s %9s %6s\n" "liblinear -s 0" "$l_fit" "$l_ll" "$l_acc" "$l_it"
    awk -v m="$m_fit" -v l="$l_fit" 'BEGIN {printf "  mlt / liblinear fit time: %.2fx\n", m / l}'
  fi
  awk -v m="$m_fit" -v s="$s_fit" -v p="$p_fit" -v a="$m_ll" -v b="$s_ll" 'BEGIN {
    printf "  mlt / scikit-learn fit time: %.2fx   log loss difference: %.2e\n", m / s, a - b
    printf "  mpirun -np 2 speedup over 1 process: %.2fx\n", m / p }'
  echo
}

reg_big=$(awk 'BEGIN {printf "%.10g", 1 / 800000}')
report "binary, 800,000 x 28" \
  "$(MLT_EXTRA="" mlt_fit binary label "$reg_big")" \
  "$(MLT_EXTRA="--threads 1" mlt_fit binary label "$reg_big" "${mpi[@]}")" \
  "$(sk_fit binary label)" "$(ll_fit binary label)"
report "5 classes, 800,000 x 28" \
  "$(mlt_fit multi label "$reg_big")" \
  "$(MLT_EXTRA="--threads 1" mlt_fit multi label "$reg_big" "${mpi[@]}")" \
  "$(sk_fit multi label)"

if [ "$have_adult" = 1 ]; then
  n=$(wc -l <"$work/adult-train.csv")
  reg_adult=$(awk -v n="$n" 'BEGIN {printf "%.10g", 1 / n}')
  out=$("$mlt" train logistic --data "$work/adult-train.csv" --test "$work/adult-test.csv" \
        --no-header --label c14 --reg "$reg_adult" --max-iter 500 --experiment bench)
  echo "== UCI Adult (one-hot categoricals, reg = 1/n, standardised penalty)"
  echo "$out" | sed -n 's/^/  /p'
fi
