#!/bin/bash
# build-deb.sh OUTDIR: builds the libpam-fac binary package from the working
# tree as it is (uncommitted changes included) with dpkg-buildpackage, and
# leaves the .deb, .buildinfo and .changes in OUTDIR. The build runs in a
# copy inside OUTDIR, so neither the repository nor its parent directory
# gets debian/ build files or packages. Prints the path of the .deb.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
case "$out/" in
  "$src"/build*/*) ;;
  "$src"/*) echo "build-deb.sh: OUTDIR must be outside the repository or under build*/" >&2; exit 2 ;;
esac

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
work=$(mktemp -d "$out/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/pam-fac-${version%-*}
mkdir "$tree"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' --exclude=__pycache__ -cf - . |
  tar -C "$tree" -xf -

jobs=$(nproc 2>/dev/null || echo 2)
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
  tail -n 60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed (last lines above)" >&2
  exit 1
fi
rm -f "$out"/libpam-fac*_"$version"_*
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out/"
if compgen -G "$work/*.ddeb" >/dev/null; then
  mv "$work"/*.ddeb "$out/"
fi
ls "$out"/libpam-fac_"$version"_*.deb
