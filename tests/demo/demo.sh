#!/bin/bash
# make demo: starts the FAC simulator on loopback with a fresh test CA and
# runs real logins through PAM (pam_wrapper, so /etc is untouched), showing
# each prompt, the answer (masked), the messages, the PAM result and the
# module's syslog line. Stops everything it started.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
module=$build/pam_fac/pam_fac.so
wrapper=$(ls /usr/lib/*/libpam_wrapper.so | head -1)
capture=$build/tests/support/libsyslog_capture.so

dir=$(mktemp -d /tmp/pamfac-demo-XXXXXX)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

bash "$src/tests/sim/make_certs.sh" "$dir/certs"
env -u LD_PRELOAD /usr/bin/python3 "$src/tests/sim/fac_sim.py" --users "$src/tests/integration/users.json" \
  --cert "$dir/certs/server.pem" --key "$dir/certs/server.key" --port 0 > "$dir/sim.out" &
sim_pid=$!
for _ in $(seq 50); do grep -q '^PORT ' "$dir/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2}' "$dir/sim.out")
[ -n "$port" ] || { echo "demo: the simulator did not start" >&2; exit 1; }

umask 077
cat > "$dir/pam_fac.conf" <<CONF
server = https://127.0.0.1:$port
api_user = apiadmin
api_key = s3cr3t-api-key
ca_file = $dir/certs/ca.pem
CONF
mkdir "$dir/services"
svc() { echo "auth required $module conf=$dir/pam_fac.conf $2" > "$dir/services/$1"; }
svc demo-code "second_factor=code"
svc demo-code-once "second_factor=code tries=1"
svc demo-password "password=yes second_factor=code"
svc demo-push ""
echo "auth required pam_deny.so" > "$dir/services/other"

login() {
  local title=$1 service=$2 user=$3; shift 3
  echo
  echo "== $title"
  echo "   service $service, user $user, from 192.0.2.10"
  : > "$dir/syslog"
  # flock: pam_wrapper's /tmp/pam.X directories are picked without locking;
  # the tests start under the same lock (tests/support/wrapper_lock.py).
  flock /tmp env PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir/services" PAM_WRAPPER_USE_SYSLOG=1 \
    PAMFAC_TEST_SYSLOG="$dir/syslog" LD_PRELOAD="$wrapper:$capture" \
    "$build/tests/demo/pam_demo" "$service" "$user" "$@" || true
  sed -n 's/^[0-9]* /    syslog  /p' "$dir/syslog"
}

echo "pam_fac demo: FAC simulator at https://127.0.0.1:$port (test CA in $dir/certs)"
code=$(oathtool --totp -b JBSWY3DPEHPK3PXP)
login "A FortiToken code from oathtool is accepted" demo-code alice "$code"
login "A wrong code is rejected" demo-code-once alice 000000
login "Password and code, both checked by FAC" demo-password alice alice-pw "$(oathtool --totp -b JBSWY3DPEHPK3PXP)"
login "Enter at the prompt sends a push; the simulator approves it" demo-push alice ""
login "A push the user rejects on the phone" demo-push grace ""
echo
echo "demo: done; the simulator is stopped and $dir removed."
