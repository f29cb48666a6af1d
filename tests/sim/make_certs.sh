#!/bin/bash
# make_certs.sh OUTDIR: test certificates for fac_sim.py (openssl CLI, EC P-256).
#
#   ca.pem/.key          the test CA (tests pass ca.pem as the CA bundle)
#   server.pem/.key      signed by the CA; SAN IP:127.0.0.1, IP:::1, DNS:localhost
#   wronghost.pem/.key   signed by the CA; SAN DNS:wrong.example only
#   expired.pem/.key     signed by the CA; valid only during 2020; server SANs
#   selfsigned.pem/.key  not from the CA; server SANs
#
# Idempotent: if OUTDIR already holds a complete set whose server
# certificate verifies and stays valid for another day, nothing changes.
# Otherwise a new set is made in a scratch directory and moved into place,
# so a failure never leaves a half-made set. Silent unless something fails.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
names=(ca server wronghost expired selfsigned)

mkdir -p "$out"
umask 077  # private keys must not be world-readable

complete_set_present() {
    local n
    for n in "${names[@]}"; do
        [ -s "$out/$n.pem" ] && [ -s "$out/$n.key" ] || return 1
    done
    openssl verify -CAfile "$out/ca.pem" "$out/server.pem" >/dev/null 2>&1 &&
        openssl x509 -in "$out/server.pem" -noout -checkend 86400 >/dev/null 2>&1
}
if complete_set_present; then
    exit 0
fi

work=$(mktemp -d "$out/.make_certs.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Run a command quietly; on failure show its output and stop.
quiet() {
    if ! "$@" >"$work/output" 2>&1; then
        echo "make_certs.sh: failed: $*" >&2
        cat "$work/output" >&2
        exit 1
    fi
}

server_sans="IP:127.0.0.1,IP:::1,DNS:localhost"
leaf_ext() {  # leaf_ext SANS: an extension file for a TLS server certificate
    printf '%s\n' \
        "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" \
        "extendedKeyUsage = serverAuth" \
        "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid" \
        "subjectAltName = $1"
}
new_key() { quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"; }
new_csr() { quiet openssl req -new -key "$work/$1.key" -subj "/CN=$2" -out "$work/$1.csr"; }
serial() { echo "0x$(openssl rand -hex 8)"; }

# sign NAME CN SANS: a CA-signed leaf valid from now for 825 days.
sign() {
    new_key "$1"
    new_csr "$1" "$2"
    leaf_ext "$3" >"$work/$1.ext"
    quiet openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -set_serial "$(serial)" -days 825 -sha256 -extfile "$work/$1.ext" -out "$work/$1.pem"
}

# The CA.
new_key ca
quiet openssl req -x509 -new -key "$work/ca.key" -subj "/CN=pam_fac test CA" -days 3650 -sha256 \
    -addext "basicConstraints = critical, CA:TRUE" \
    -addext "keyUsage = critical, keyCertSign, cRLSign" \
    -out "$work/ca.pem"

sign server localhost "$server_sans"
sign wronghost wrong.example "DNS:wrong.example"

# Expired: `openssl x509 -req` can't back-date in OpenSSL 3.0, `openssl ca` can.
new_key expired
new_csr expired localhost
leaf_ext "$server_sans" >"$work/expired.ext"
: >"$work/index.txt"
openssl rand -hex 8 >"$work/serial"
cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
EOF
quiet openssl ca -batch -config "$work/ca.cnf" -cert "$work/ca.pem" -keyfile "$work/ca.key" \
    -in "$work/expired.csr" -out "$work/expired.pem" -notext \
    -startdate 20200101000000Z -enddate 20201231235959Z \
    -extfile "$work/expired.ext"

# Self-signed: the right names, but no chain to the CA.
new_key selfsigned
quiet openssl req -x509 -new -key "$work/selfsigned.key" -subj "/CN=localhost" -days 825 -sha256 \
    -addext "subjectAltName = $server_sans" -out "$work/selfsigned.pem"

for n in "${names[@]}"; do
    chmod 0644 "$work/$n.pem"
    chmod 0600 "$work/$n.key"
    mv -f "$work/$n.pem" "$work/$n.key" "$out/"
done
