#!/usr/bin/env bash
# Checks that perfex's C++ sources (every tracked *.cpp, *.hpp, *.h) are formatted as .clang-format says,
# with clang-format 14 (Debian 12's clang-format-14: another major version formats differently, so it is
# refused). Prints each file that differs and the number of lines clang-format would change; exits 1 when
# any file differs, 2 on a usage error or a missing clang-format 14.
#
# Usage: scripts/check-format.sh [--fix] [FILE...]
#   --fix    rewrite the files in place instead of checking them
#   FILE...  only these files (default: every tracked C++ source)
# Environment: CLANG_FORMAT (default: clang-format-14, else clang-format when it is version 14).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

fix=0
files=()
for a in "$@"; do
  case "$a" in
    --fix) fix=1 ;;
    -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "check-format: unknown option '$a' (see --help)" >&2; exit 2 ;;
    *) files+=("$a") ;;
  esac
done

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
  if command -v clang-format-14 >/dev/null 2>&1; then clang_format=clang-format-14; else clang_format=clang-format; fi
fi
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "check-format: $clang_format not found: install Debian's clang-format-14 (scripts/setup-deps.sh does)" >&2
  exit 2
fi
version=$("$clang_format" --version | sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != 14 ]; then
  echo "check-format: $clang_format is version '${version:-unknown}', not 14 (Debian 12's clang-format-14): other versions format differently" >&2
  exit 2
fi

if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h')
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C++ sources found" >&2; exit 2; }

if [ $fix = 1 ]; then
  "$clang_format" -i --style=file "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi

bad=0
lines=0
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "check-format: $f: no such file" >&2; exit 2; }
  n=$("$clang_format" --style=file "$f" | diff "$f" - | grep -c '^<' || true)
  if [ "$n" -gt 0 ]; then
    echo "$f: $n lines differ from .clang-format"
    bad=$((bad + 1))
    lines=$((lines + n))
  fi
done
if [ $bad -gt 0 ]; then
  echo "check-format: $bad of ${#files[@]} files are not formatted ($lines lines); see the changes with" \
    "'$clang_format --style=file FILE | diff FILE -', apply them with scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted as .clang-format says"
