#!/usr/bin/env bash
# Tests run_doc_blocks.sh on the fixture pages in tests/docs/fixtures: it must pass a good page
# and fail each bad one, naming the page and the line, without running what follows a failure.
#
#   MLT_BIN=build/src/cli/mlt tests/docs/self_test.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runner="$here/run_doc_blocks.sh"
fixtures="$here/fixtures"
[ -n "${MLT_BIN:-}" ] || { echo "self_test: MLT_BIN is not set" >&2; exit 2; }

probe="$(mktemp -d "${TMPDIR:-/tmp}/mlt-docs-selftest.XXXXXX")"
trap 'rm -rf "$probe"' EXIT
export DOCS_FIXTURE_PROBE="$probe"
failures=0

# run NAME EXPECTED_STATUS [VAR=VALUE...] -- PAGE...: runs the runner, keeps its output in $out.
run() {
  local name="$1" expected="$2"
  shift 2
  local env=()
  while [ "$1" != "--" ]; do env+=("$1"); shift; done
  shift
  local status=0
  out="$(env "${env[@]}" bash "$runner" "$@" 2>&1)" || status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "FAIL $name: exit status $status, expected $expected; output:"
    echo "$out"
    failures=$((failures + 1))
  fi
}

# expect NAME TEXT: the last run's output holds the line TEXT (exactly, as a whole line).
expect() {
  if ! grep -qxF -- "$2" <<< "$out"; then
    echo "FAIL $1: no line '$2' in the output:"
    echo "$out"
    failures=$((failures + 1))
  fi
}

# expect_re NAME REGEX: the last run's output has a line matching the extended REGEX whole.
expect_re() {
  if ! grep -qxE -- "$2" <<< "$out"; then
    echo "FAIL $1: no line matching '$2' in the output:"
    echo "$out"
    failures=$((failures + 1))
  fi
}

# refuse NAME TEXT: the last run's output has no line TEXT.
refuse() {
  if grep -qxF -- "$2" <<< "$out"; then
    echo "FAIL $1: the output has the line '$2':"
    echo "$out"
    failures=$((failures + 1))
  fi
}

# probe_is NAME FILE yes|no: whether a block touched $probe/FILE.
probe_is() {
  local present=no
  [ -e "$probe/$2" ] && present=yes
  if [ "$present" != "$3" ]; then
    echo "FAIL $1: $2 present: $present, expected $3"
    failures=$((failures + 1))
  fi
}

run passing 0 MLT_BIN="$MLT_BIN" -- "$fixtures/passing.md"
expect_re passing "ok   $fixtures/passing.md: 3 runnable blocks in [0-9]+ s"

page="$fixtures/failing.md"
run failing 1 MLT_BIN="$MLT_BIN" -- "$page"
expect failing "FAIL $page:8: runnable block 2 of 3 failed with exit status 2"
expect failing "     the failing command is at or near $page:10"
expect failing "   10 | ls no-such-file-here"
expect failing "second block sees set-by-the-first-block"
refuse failing "never printed"   # the echo after the failing command
probe_is failing first-block-ran yes
probe_is failing third-block-ran no

# Every page is reported, the passing one too, and one failure fails the whole invocation.
run two-pages 1 MLT_BIN="$MLT_BIN" -- "$fixtures/passing.md" "$page"
expect_re two-pages "ok   $fixtures/passing.md: 3 runnable blocks in [0-9]+ s"
expect two-pages "FAIL $page:8: runnable block 2 of 3 failed with exit status 2"

page="$fixtures/unterminated.md"
run unterminated 1 MLT_BIN="$MLT_BIN" -- "$page"
expect unterminated "$page:9: code fence opened here is never closed"
expect unterminated "FAIL $page: refused before running anything"
probe_is unterminated unterminated-page-ran no

page="$fixtures/misspelt.md"
run misspelt 1 MLT_BIN="$MLT_BIN" -- "$page"
expect misspelt "$page:3: malformed runnable marker 'bash runnable': write \`\`\`sh runnable"

page="$fixtures/leftover.md"
run leftover 1 MLT_BIN="$MLT_BIN" -- "$page"
expect_re leftover "FAIL $page:3: runnable block 1 of 1 is the last, and the page left processes running: [0-9]+ \(sleep 297\); stop what the blocks start"
for cmdline in /proc/[0-9]*/cmdline; do
  if [ "$(tr '\0' ' ' 2>/dev/null < "$cmdline")" = "sleep 297 " ]; then
    echo "FAIL leftover: the process the page left ($cmdline) is still running"
    failures=$((failures + 1))
  fi
done

page="$fixtures/exits.md"
run exits 1 MLT_BIN="$MLT_BIN" -- "$page"
expect exits "FAIL $page:3: runnable block 1 of 2 ended the shell session (exit) before the page's later blocks could run"
probe_is exits after-exit-ran no

page="$fixtures/slow.md"
run slow 1 MLT_BIN="$MLT_BIN" MLT_DOCS_TIMEOUT=1 -- "$page"
expect slow "FAIL $page:3: runnable block 1 of 1 did not finish within 1 s (the page's time limit, MLT_DOCS_TIMEOUT)"

run no-such-page 1 MLT_BIN="$MLT_BIN" -- "$fixtures/none.md"
expect no-such-page "FAIL $fixtures/none.md: no such file"

run no-mlt-bin 2 MLT_BIN= -- "$fixtures/passing.md"
expect no-mlt-bin "run_doc_blocks: MLT_BIN is not set"

if [ "$failures" -ne 0 ]; then
  echo "self_test: $failures checks failed"
  exit 1
fi
echo "self_test: every check passed"
