#!/bin/sh
# Builds the legacy oracle (Mono) from its source folder into a private copy, so that the shared source is
# never written to. usage: build.sh <oracle source dir> <work dir>
set -e
src=$1; dst=$2
command -v mono >/dev/null 2>&1 || { echo "mono is not installed: run 'make oracle-deps' (as root) first" >&2; exit 1; }
[ -f "$src/build.sh" ] || { echo "no legacy oracle at $src (set ORACLE_SRC)" >&2; exit 1; }
if [ ! -f "$dst/bin/oracle.exe" ] || [ -n "$(find "$src/src" -newer "$dst/bin/oracle.exe" 2>/dev/null)" ]; then
  rm -rf "$dst"; mkdir -p "$dst"
  cp -R "$src/." "$dst/"
  chmod -R u+w "$dst"
  (cd "$dst" && sh ./build.sh)
fi
