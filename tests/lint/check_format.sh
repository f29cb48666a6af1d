#!/bin/bash
# Fails when a C or C++ source is not formatted as .clang-format says, and
# names the files (fix with: clang-format-14 -i FILE). Pinned to version
# 14, Debian 12's: another version formats some constructs differently.
set -euo pipefail
root=$1
clang_format=${2:-clang-format-14}
cd "$root"
mapfile -t files < <(find common pam_fac tests -name '*.cpp' -o -name '*.h' -o -name '*.c' | sort)
bad=()
for f in "${files[@]}"; do
  if ! "$clang_format" --dry-run -Werror "$f" 2>/dev/null; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not clang-formatted: %s\n' "${bad[@]}"
  exit 1
fi
echo "clang-format: ${#files[@]} files clean"
