#!/bin/bash
# clang-tidy (checks in .clang-tidy) over the module's and facctl's sources,
# using the compile commands of the build directory given.
set -euo pipefail
root=$1 build=$2
cd "$root"
mapfile -t files < <(find common pam_fac -name '*.cpp' | sort)
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet
echo "clang-tidy: ${#files[@]} files clean"
