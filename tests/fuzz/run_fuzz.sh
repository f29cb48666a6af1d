#!/bin/bash
# Runs one libFuzzer target for a while over its seed corpus.
#   run_fuzz.sh BINARY SECONDS SEED_DIR WORK_DIR
# New inputs go to WORK_DIR/corpus (the committed seeds are only read);
# a crash, leak or property violation leaves its input in WORK_DIR/ and
# makes the exit status non-zero. The last line is a summary:
#   fuzz_<name>: <runs> runs in <s> s, <n> corpus entries, <findings>
set -euo pipefail
binary=$1 seconds=$2 seeds=$3 work=$4
name=$(basename "$binary")
if [ ! -x "$binary" ]; then
  echo "$name: not built (is clang++ installed?)" >&2
  exit 1
fi
mkdir -p "$work/corpus" "$work/tmp"
# Scratch files (fuzz_config's config file) stay in the work dir, even
# after a crash.
export TMPDIR="$work/tmp"
here=$(cd "$(dirname "$0")" && pwd)
export UBSAN_OPTIONS="suppressions=$here/ubsan.supp:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
log="$work/fuzz.log"
status=0
# -timeout: one input taking longer than 10 s is a finding (a hang).
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$log" 2>&1 || status=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
entries=$(find "$work/corpus" "$seeds" -type f | wc -l)
if [ "$status" -ne 0 ]; then
  tail -n 60 "$log" >&2
  echo "$name: FINDING (exit $status) after $runs runs; input saved in $work/ (see $log)"
  exit "$status"
fi
echo "$name: $runs runs in $seconds s, $entries corpus entries, no findings"
