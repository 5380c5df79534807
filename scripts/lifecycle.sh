#!/usr/bin/env bash
# A model's whole life on the default local store (./mlruns.db, artifacts in ./mlartifacts, both
# in the working directory): the example projects run with `mlt run` (an ALS recommender swept
# over rank and regularisation, a random forest on San Francisco Airbnb prices, a logistic
# regression on UCI Adult), the best recommender registered as models:/recs@prod, served, asked
# for a top-10 list, and the leaderboards printed. scripts/quickstart.sh installs, builds and
# runs it; the test suite runs it with --small. Running it again adds runs and a new version of
# `recs`, and moves @prod to it.
#
#   scripts/lifecycle.sh [--mlt PATH] [--small]
#     --mlt PATH  the mlt binary (default: build/src/cli/mlt of this checkout)
#     --small     small data, for tests: seconds instead of minutes
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mlt="$repo/build/src/cli/mlt"
small=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mlt) mlt="$2"; shift 2 ;;
    --small) small=1; shift ;;
    *) echo "lifecycle: unknown option '$1' (expected --mlt PATH or --small)" >&2; exit 2 ;;
  esac
done
[ -x "$mlt" ] || { echo "lifecycle: no mlt binary at '$mlt': build first" >&2; exit 1; }
mlt="$(cd "$(dirname "$mlt")" && pwd)/$(basename "$mlt")"
examples="$repo/examples"
# The store of every step: the working directory's, whatever the environment says.
export MLT_TRACKING_URI="sqlite:///mlruns.db"
unset MLFLOW_TRACKING_URI MLT_EXPERIMENT_NAME MLT_EXPERIMENT_ID

if [ "$small" -eq 1 ]; then
  users=300; items=200; ratings=12000; ranks=4,8; regs=0.05,0.1
  forest_params=(-P num_trees=10 -P max_depth=6)
else
  users=3000; items=1500; ratings=400000; ranks=8,16,32; regs=0.05,0.1
  forest_params=()
fi

step=0
steps=8
say() {
  step=$((step + 1))
  printf '\n==> [%d/%d] %s\n' "$step" "$steps" "$*"
}

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

say "ratings for the recommender: $ratings MovieLens-shaped ratings of $users users and $items items"
mkdir -p data
"$mlt" run "$examples/recommender" -e data --experiment-name recommender \
  -P out="$PWD/data/ratings.csv" -P users="$users" -P items="$items" -P ratings="$ratings"

say "ALS recommender, a grid sweep over rank {$ranks} and reg {$regs}, 2 trials at a time"
sweep=$("$mlt" run "$examples/recommender" --experiment-name recommender \
  -P ratings="$PWD/data/ratings.csv" -P rank="$ranks" -P reg="$regs" \
  --sweep grid --max-parallel 2 --metric test_rmse 2>/dev/null)
sed -n '/^Sweep run/,$p' <<<"$sweep"
best=$(sed -n 's/^Best trial: .* (run \([0-9a-f]*\)).*/\1/p' <<<"$sweep")
[ -n "$best" ] || { echo "lifecycle: the sweep named no best trial" >&2; exit 1; }

say "registering the best recommender as models:/recs@prod"
registered=$("$mlt" models register "runs:/$best/model" -n recs)
echo "$registered"
version=$(sed -n "s/.* as version \([0-9]*\) of model 'recs'.*/\1/p" <<<"$registered")
"$mlt" models alias recs prod "$version"

say "random forest on San Francisco Airbnb prices (examples/airbnb-price)"
"$mlt" run "$examples/airbnb-price" --experiment-name airbnb-price ${forest_params[@]+"${forest_params[@]}"}

say "logistic regression on UCI Adult income (examples/income)"
"$mlt" run "$examples/income" --experiment-name income

say "serving models:/recs@prod and asking for user 1's top 10"
"$mlt" models serve -m models:/recs@prod --port 0 >serve.log 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' serve.log)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$url" ] || { echo "lifecycle: mlt models serve did not start:" >&2; cat serve.log >&2; exit 1; }
request='{"inputs": {"user": [1]}, "params": {"k": 10}}'
echo "POST $url/invocations $request"
answer=$(curl -sS -X POST "$url/invocations" -H 'Content-Type: application/json' -d "$request")
# One line per recommended item: rank, item, score.
sed -e 's/^{"predictions":\[//' -e 's/\]}$//' -e 's/},{/}\n{/g' <<<"$answer" |
  sed -n 's/.*"rank":\([0-9]*\),"item":\([0-9]*\),"score":\([-0-9.e+]*\).*/  #\1  item \2  score \3/p'
stop_server
rm -f serve.log

say "leaderboards"
echo "recommender, the sweeps' trials, best first:"
"$mlt" runs list --experiment recommender --filter "tags.mlflow.parentRunId IS NOT NULL" \
  --order-by "metrics.test_rmse ASC" --columns params.rank,params.reg,metrics.test_rmse \
  --max-results 5
echo
echo "airbnb-price:"
"$mlt" runs list --experiment airbnb-price --max-results 3 \
  --columns params.num_trees,params.max_depth,metrics.test_rmse,metrics.test_mae,metrics.test_r2
echo
echo "income:"
"$mlt" runs list --experiment income --max-results 3 \
  --columns params.reg,metrics.test_accuracy,metrics.test_roc_auc,metrics.test_log_loss

say "done"
echo "Store: sqlite:///mlruns.db   artifacts: ./mlartifacts   model: models:/recs@prod (version $version)"
echo "See it all in the browser:  $mlt ui   then open http://127.0.0.1:5000/"
