#!/usr/bin/env bash
# banned-functions.sh SOURCE_DIR - library code must not call the libc
# functions style.md bans: unbounded copies and formatting, tokenizers with
# hidden state, unchecked conversions, and getenv (secure_getenv only).
set -uo pipefail
src=$1
pattern='(^|[^_[:alnum:]])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|gets|strncpy|getenv|tmpnam|mktemp)[[:space:]]*\('
hits=$(grep -nE "$pattern" "$src"/libverify/src/*.c "$src"/libverify/src/*.h "$src"/libverify/include/sigil/*.h |
  grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' || true)
if [ -n "$hits" ]; then
  echo "banned functions in library code:"
  echo "$hits"
  exit 1
fi
echo "no banned functions in libverify"
