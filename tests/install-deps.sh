#!/bin/bash
# Installs, with apt-get, every build and test dependency that is missing,
# plus the packages named as arguments (what one make target alone needs,
# e.g. lcov for make coverage). Run as root on Debian 12; does nothing when
# everything is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libpam0g-dev libcurl4-openssl-dev rapidjson-dev libcrypt-dev
  libcmocka-dev libpam-wrapper libnss-wrapper libpamtest0-dev python3-pypamtest pamtester
  openssh-server openssh-client sudo expect python3-pexpect
  oathtool faketime openssl ca-certificates valgrind
  curl time libssl-dev
  debhelper dpkg-dev lintian
  login passwd util-linux
  clang libclang-rt-14-dev clang-format-14 clang-tidy-14
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
