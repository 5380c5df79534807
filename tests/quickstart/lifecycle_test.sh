#!/usr/bin/env bash
# The README's main job, small: scripts/lifecycle.sh --small in a fresh folder, twice. Checks what
# it printed and what it left in the store: the sweep's best run registered as recs version 1 with
# @prod on it, a served top-10 answer, the three leaderboards; the second pass registers version 2
# and moves @prod. Usage: lifecycle_test.sh <mlt binary>
set -euo pipefail
mlt="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
  echo "FAIL: $*" >&2
  echo "--- output of the pass that failed:" >&2
  cat "$out" >&2
  exit 1
}
expect() {  # pattern, description
  grep -Eq -- "$1" "$out" || fail "expected $2 (/$1/)"
}

for pass in 1 2; do
  out="$work/pass$pass.txt"
  if ! "$repo/scripts/lifecycle.sh" --mlt "$mlt" --small >"$out" 2>&1; then
    fail "pass $pass exited non-zero"
  fi
  expect '^==> \[8/8\] done' "all eight steps"
  expect "^Best trial: [0-9]+ \(run [0-9a-f]{32}\), test_rmse = [0-9.]+" "the sweep's best trial"
  expect "as version $pass of model 'recs' \(models:/recs/$pass\)" "registration as version $pass"
  expect "^models:/recs@prod is version $pass" "@prod on version $pass"
  # Ten recommendations, ranks 1 to 10, for user 1.
  [ "$(grep -Ec '^  #([0-9]+)  item [0-9]+  score ' "$out")" -eq 10 ] || fail "ten recommended items"
  expect '^  #10  item ' "the tenth item"
  expect "^recommender, the sweeps' trials, best first:" "the recommender leaderboard"
  expect '^airbnb-price:' "the airbnb leaderboard"
  expect '^income:' "the income leaderboard"
  expect "mlt ui   then open http://127\.0\.0\.1:5000/" "the mlt ui hint"
done

# The store: two sweeps of 4 trials (2 ranks x 2 regs) under their parents, each trial with its
# test_rmse; @prod on version 2, which is the second sweep's best run.
export MLT_TRACKING_URI="sqlite:///$work/mlruns.db"
trials=$("$mlt" runs list --experiment recommender --filter "tags.mlflow.parentRunId IS NOT NULL" \
  --columns metrics.test_rmse --max-results 100 | grep -Ec '^[0-9a-f]{32} ')
[ "$trials" -eq 8 ] || { out=/dev/null; fail "8 sweep trials in the store, found $trials"; }
"$mlt" models describe models:/recs@prod | grep -Eq "^Registered: +recs version 2$" || {
  out=/dev/null; fail "models:/recs@prod describes version 2"; }
[ -d "$work/mlartifacts" ] || { out=/dev/null; fail "artifacts in ./mlartifacts"; }

# Bad input: an unknown option is refused with the option named.
if "$repo/scripts/lifecycle.sh" --mlt "$mlt" --tiny >"$work/bad.txt" 2>&1; then
  out="$work/bad.txt"; fail "--tiny accepted"
fi
grep -q "unknown option '--tiny'" "$work/bad.txt" || { out="$work/bad.txt"; fail "the option named"; }
echo "lifecycle: both passes as expected"
