#!/usr/bin/env bash
# Writes UCI Adult as two CSV files that `mlt train logistic` reads as they are:
# <workdir>/adult-train.csv (adult.data) and <workdir>/adult-test.csv (adult.test), each with a
# header line of the UCI column names. adult.test's first line, a comment, is left out, and so is
# the "." that ends its labels ("<=50K." is "<=50K" in adult.data). The `, ` separators and the
# "?" of a missing value stay: the CSV reader takes both.
#   prepare.sh <data folder> <workdir>
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "prepare: expected <data folder> <workdir>, got $# arguments" >&2
  exit 2
fi
data="$1"
work="$2"
# The command runs in the project's folder: a relative workdir would write among its files.
case "$work" in
  /*) ;;
  *) echo "prepare: workdir must be an absolute path, got '$work'" >&2; exit 2 ;;
esac
for file in adult.data adult.test; do
  [ -f "$data/$file" ] || { echo "prepare: no $file in '$data'" >&2; exit 2; }
done
header="age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,"
header+="race,sex,capital-gain,capital-loss,hours-per-week,native-country,income"
mkdir -p "$work"
{ echo "$header"; cat "$data/adult.data"; } >"$work/adult-train.csv"
{ echo "$header"; tail -n +2 "$data/adult.test" | sed -e 's/\.$//'; } >"$work/adult-test.csv"
echo "prepare: wrote $work/adult-train.csv and $work/adult-test.csv"
