#!/bin/bash
# make deb: installs, with apt-get, what building the package needs and is
# missing, and nothing more: build-essential, dpkg-dev and the
# Build-Depends of debian/control (apt-get build-dep). The test tools
# (tests/install-deps.sh: valgrind, clang, lintian, ...) are make check's,
# not make deb's: a production server that builds the package gets only
# these. Does nothing when dpkg-checkbuilddeps is satisfied.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
if command -v dpkg-checkbuilddeps >/dev/null 2>&1 && (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-build-deps: build dependencies missing (run as root, or: apt-get build-dep $src)" >&2
  (cd "$src" && dpkg-checkbuilddeps) >&2 || true
  exit 1
fi
echo "install-build-deps: installing libpam-fac's build dependencies"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends build-essential dpkg-dev >/dev/null
apt-get build-dep -y -q --no-install-recommends "$src" >/dev/null
