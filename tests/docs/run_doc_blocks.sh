#!/usr/bin/env bash
# Runs the runnable command blocks of Markdown pages, so that the commands the docs show work.
#
#   MLT_BIN=build/src/cli/mlt tests/docs/run_doc_blocks.sh docs/serving.md [more pages...]
#
# A runnable block is a fenced code block whose info string is exactly `sh runnable`; every other
# block is illustrative and is not run. The blocks of one page run in order in ONE bash session
# (`set -euo pipefail`), so a variable set by a block is seen by the later ones, in a fresh
# temporary folder that is the working directory, with:
#   MLT_TRACKING_URI  sqlite:///<that folder>/mlruns.db
#   PATH              a folder holding `mlt` (a link to $MLT_BIN) first
#   MLT_REPO          the repository's root (default: the one holding this script)
# and none of the MLT_*/MLFLOW_* variables of the caller's environment (run, experiment, artifact
# root), as on a fresh machine. docs/README.md states the same convention for readers.
#
# A page fails when a block fails (the page, the block's first line, the failing command's line,
# the block and its output are printed), when a block ends the session (`exit`), when a block
# leaves a process running behind it (a server started with `&` must be stopped), when it takes
# longer than MLT_DOCS_TIMEOUT seconds in all (default 240), and before anything runs when the
# page has a code fence that is never closed or an info string that mentions `runnable` but is
# not `sh runnable` (a misspelt marker would otherwise skip a block silently).
# MLT_DOCS_VERBOSE=1 prints every block and its output, failing or not.
# Exit status: 0 when every page passed, 1 when one failed, 2 on a usage error.
set -euo pipefail

usage() {
  echo "usage: MLT_BIN=<path to mlt> $0 PAGE.md..." >&2
  exit 2
}

[ $# -gt 0 ] || usage
[ -n "${MLT_BIN:-}" ] || { echo "run_doc_blocks: MLT_BIN is not set" >&2; usage; }
[ -x "$MLT_BIN" ] || { echo "run_doc_blocks: MLT_BIN '$MLT_BIN' is not an executable" >&2; exit 2; }
MLT_BIN="$(cd "$(dirname "$MLT_BIN")" && pwd)/$(basename "$MLT_BIN")"
repo="${MLT_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
repo="$(cd "$repo" && pwd)"
page_timeout="${MLT_DOCS_TIMEOUT:-240}"

work="$(mktemp -d "${TMPDIR:-/tmp}/mlt-docs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
ln -s "$MLT_BIN" "$work/bin/mlt"

# extract PAGE OUTDIR: writes OUTDIR/<n>.sh for the n-th runnable block (n from 1) and
# OUTDIR/index, one line "<n> <line of the opening fence>" per block. Fails, naming the line, on
# an unterminated fence or a malformed runnable marker.
extract() {
  local page="$1" out="$2"
  local line_no=0 in_fence=0 fence_char="" fence_len=0 fence_indent=0 fence_line=0
  local runnable=0 count=0 line body
  local re_fence='^( *)(`{3,}|~{3,})(.*)$'
  : > "$out/index"
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    if [ "$in_fence" -eq 0 ]; then
      [[ "$line" =~ $re_fence ]] || continue
      local indent="${BASH_REMATCH[1]}" marks="${BASH_REMATCH[2]}" info="${BASH_REMATCH[3]}"
      # A backtick fence's info string cannot hold a backtick: such a line is inline code.
      if [ "${marks:0:1}" = '`' ] && [[ "$info" == *'`'* ]]; then continue; fi
      info="$(printf '%s' "$info" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
      in_fence=1 fence_char="${marks:0:1}" fence_len=${#marks} fence_indent=${#indent}
      fence_line=$line_no runnable=0
      if [ "$info" = "sh runnable" ]; then
        runnable=1 count=$((count + 1))
        : > "$out/$count.sh"
        echo "$count $fence_line" >> "$out/index"
      elif [[ "$info" == *runnable* ]]; then
        echo "$page:$line_no: malformed runnable marker '$info': write \`\`\`sh runnable" >&2
        return 1
      fi
      continue
    fi
    # Inside a fence: a closing fence is the same character, at least as many, nothing after.
    local close_re="^ *[${fence_char}]{${fence_len},} *$"
    if [[ "$line" =~ $close_re ]]; then
      in_fence=0
      continue
    fi
    if [ "$runnable" -eq 1 ]; then
      body="$line"
      local strip=0
      while [ "$strip" -lt "$fence_indent" ] && [ "${body:0:1}" = " " ]; do
        body="${body:1}" strip=$((strip + 1))
      done
      printf '%s\n' "$body" >> "$out/$count.sh"
    fi
  done < "$page"
  if [ "$in_fence" -eq 1 ]; then
    echo "$page:$fence_line: code fence opened here is never closed" >&2
    return 1
  fi
}

# The pids of the processes in process group $1 (read from /proc: no procps needed).
group_members() {
  local stat rest fields
  for stat in /proc/[0-9]*/stat; do
    rest="$(cat "$stat" 2>/dev/null)" || continue
    rest="${rest##*) }"          # after "pid (comm) ": state ppid pgrp ...
    read -r -a fields <<< "$rest"
    if [ "${fields[2]:-}" = "$1" ]; then
      local pid="${stat#/proc/}"
      echo "${pid%/stat}"
    fi
  done
}

# show_block FENCE_LINE FILE: the block, numbered with the page's line numbers.
show_block() {
  local n=$(( $1 + 1 )) line
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%5d | %s\n' "$n" "$line"
    n=$((n + 1))
  done < "$2"
}

# run_page PAGE INDEX: 0 when every runnable block of PAGE passed. INDEX names its folders.
run_page() {
  local page="$1" blocks="$work/$2.blocks" state="$work/$2.state" dir="$work/$2.run"
  mkdir -p "$blocks" "$state" "$dir"
  if ! extract "$page" "$blocks" 2>&1; then
    echo "FAIL $page: refused before running anything"
    return 1
  fi
  local total
  total=$(wc -l < "$blocks/index")
  if [ "$total" -eq 0 ]; then
    echo "ok   $page: no runnable blocks"
    return 0
  fi

  # The driver sources each block in turn in one shell. The ERR trap records the line of the
  # failing command (LINENO counts lines of the sourced block file) before errexit ends the
  # shell; without errtrace it fires in this shell only, where every ERR is fatal.
  local driver="$state/driver.sh"
  {
    echo 'set -euo pipefail'
    echo "trap 'printf \"%s\\n\" \"\$LINENO\" > \"$state/errline\"' ERR"
    echo "cd '$dir'"
    local n first
    while read -r n first; do
      echo "printf '%s\\n' $n > '$state/current'"
      echo "source '$blocks/$n.sh' > '$state/$n.out' 2>&1 < /dev/null"
      echo "printf 'ok %s\\n' $n >> '$state/passed'"
    done < "$blocks/index"
    echo "printf 'done\\n' > '$state/current'"
  } > "$driver"

  local started status=0
  started=$(date +%s)
  # timeout makes itself the leader of a new process group: everything the blocks start is in
  # it, so the group's leftovers can be found and stopped afterwards.
  (
    cd "$dir"
    unset MLFLOW_TRACKING_URI MLT_RUN_ID MLFLOW_RUN_ID MLT_EXPERIMENT_NAME MLFLOW_EXPERIMENT_NAME \
          MLT_EXPERIMENT_ID MLFLOW_EXPERIMENT_ID MLT_ARTIFACT_ROOT MLT_PROJECT_CACHE MLT_UI_DIR
    export MLT_TRACKING_URI="sqlite:///$dir/mlruns.db" MLT_REPO="$repo" \
           PATH="$work/bin:$PATH" XDG_CACHE_HOME="$dir/.cache"
    exec timeout --kill-after=5 "$page_timeout" bash "$driver" < /dev/null
  ) &
  local leader=$!
  wait "$leader" || status=$?
  local seconds=$(( $(date +%s) - started ))

  # Whatever the blocks left running is stopped; on success, leaving it running is a failure.
  local leftovers="" pid
  for pid in $(group_members "$leader"); do
    leftovers+="${leftovers:+, }$pid ($(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | sed 's/ $//'))"
  done
  if [ -n "$leftovers" ]; then
    kill -TERM -- "-$leader" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$leader" 2>/dev/null || true
  fi

  if [ "${MLT_DOCS_VERBOSE:-0}" = 1 ]; then
    local n first
    while read -r n first; do
      [ -e "$state/$n.out" ] || break
      echo "---- block ($page:$first) ----"
      show_block "$first" "$blocks/$n.sh"
      echo "---- its output ----"
      cat "$state/$n.out"
    done < "$blocks/index"
  fi

  local current
  current="$(cat "$state/current" 2>/dev/null || echo 1)"
  if [ "$status" -eq 0 ] && [ "$current" = "done" ] && [ -z "$leftovers" ]; then
    echo "ok   $page: $total runnable block$([ "$total" -eq 1 ] || echo s) in ${seconds} s"
    return 0
  fi

  local what
  if [ "$current" = "done" ]; then
    current="$total"
    what="is the last, and the page left processes running: $leftovers; stop what the blocks start"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    what="did not finish within ${page_timeout} s (the page's time limit, MLT_DOCS_TIMEOUT)"
  elif [ "$status" -eq 0 ]; then
    what="ended the shell session (exit) before the page's later blocks could run"
  else
    what="failed with exit status $status"
  fi
  local first
  first="$(awk -v n="$current" '$1 == n { print $2 }' "$blocks/index")"
  echo "FAIL $page:$first: runnable block $current of $total $what"
  if [ -s "$state/errline" ] && [ "$status" -ne 124 ] && [ "$status" -ne 137 ]; then
    # bash's LINENO of a command continued over several lines may be any of them: "near".
    echo "     the failing command is at or near $page:$(( first + $(cat "$state/errline") ))"
  fi
  echo "---- block ($page:$first) ----"
  show_block "$first" "$blocks/$current.sh"
  echo "---- its output ----"
  cat "$state/$current.out" 2>/dev/null || true
  echo "---- end ----"
  return 1
}

failed=0 index=0
for page in "$@"; do
  index=$((index + 1))
  if [ ! -f "$page" ]; then
    echo "FAIL $page: no such file"
    failed=1
    continue
  fi
  run_page "$page" "$index" || failed=1
done
exit "$failed"
