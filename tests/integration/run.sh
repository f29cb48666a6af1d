#!/bin/bash
# Runs one integration test binary under pam_wrapper. pam_wrapper reads the
# service directory when it loads, so the stacks (tests/integration/stacks/,
# with @MODULE@, @WRAPPER_MODULES@ and @DIR@ filled in) are written first,
# into a fresh directory that is removed afterwards.
#   run.sh BINARY MODULE PAM_WRAPPER_LIB CAPTURE_LIB [SANITIZER_RUNTIME]
# PAMFAC_TEST_RUNNER (e.g. "valgrind --error-exitcode=99 ...") prefixes the
# test binary: that is how the valgrind lane runs these tests.
set -euo pipefail
binary=$1 module=$2 wrapper_lib=$3 capture_lib=$4 sanitizer_runtime=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/pamfac-itest-XXXXXX)
trap '[ -n "${PAMFAC_KEEP_TEST_DIR:-}" ] || rm -rf "$dir"' EXIT
mkdir "$dir/services"
for stack in "$here"/stacks/*; do
  sed -e "s|@MODULE@|$module|g" -e "s|@DIR@|$dir|g" \
      -e "s|@WRAPPER_MODULES@|$(dirname "$wrapper_lib")/pam_wrapper|g" \
      "$stack" > "$dir/services/$(basename "$stack")"
done
export PAMFAC_TEST_DIR="$dir" PAMFAC_TEST_SYSLOG="$dir/syslog.log" PAMFAC_TEST_MODULE="$module"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services" PAM_WRAPPER_USE_SYSLOG=1
preload="$wrapper_lib:$capture_lib"
[ -n "$sanitizer_runtime" ] && preload="$sanitizer_runtime:$preload"
# pam_wrapper picks its /tmp/pam.X directory when the test starts, without
# locking: two tests starting at once could share one and read each other's
# stacks. Startups take turns through a lock on /tmp itself (no file to
# create there): the test holds it until its own directory exists
# (start_environment() closes PAMFAC_WRAPPER_LOCK_FD).
exec 9</tmp
if ! flock -w 120 9; then
  echo "run.sh: waited 120 s for another test to start; giving up" >&2
  exit 1
fi
# shellcheck disable=SC2086 # the runner is a command line
LD_PRELOAD="$preload" PAMFAC_WRAPPER_LOCK_FD=9 ${PAMFAC_TEST_RUNNER:-} "$binary" &
test_pid=$!
exec 9>&-
wait "$test_pid"
