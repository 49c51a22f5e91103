#!/bin/sh
# Re-records testdata/golden/oracle from the legacy oracle (Mono):
#   <app>/<Type>.random.jsonl  `random <app> <Type> --seed 7 --count 60` for every type `types` lists;
#   <app>/<Type>.edge.jsonl    the hand-picked inputs of tools/oracle/edge-inputs/<app>.<Type>.txt, each
#                              written by `serialize` as json and xml, in the random-line format.
# usage: record.sh <oracle work dir>   (the folder holding bin/oracle.exe, as `make oracle` builds it)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <oracle work dir>" >&2; exit 64; }
oracle="$1/bin/oracle.exe"
[ -f "$oracle" ] || { echo "no oracle at $oracle (run 'make oracle')" >&2; exit 1; }
command -v mono >/dev/null 2>&1 || { echo "mono is not installed: run 'make oracle-deps' (as root) first" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed" >&2; exit 1; }
cd "$(dirname "$0")/../.."
out=testdata/golden/oracle

types=$(mono "$oracle" types)
echo "$types" | while read -r app type dir; do
  [ -n "$app" ] || continue
  mkdir -p "$out/$app"
  mono "$oracle" random "$app" "$type" --seed 7 --count 60 >"$out/$app/$type.random.jsonl.tmp"
  mv "$out/$app/$type.random.jsonl.tmp" "$out/$app/$type.random.jsonl"
  echo "recorded $out/$app/$type.random.jsonl ($dir)"
done

python3 tools/oracle/record_edge.py "$oracle" tools/oracle/edge-inputs "$out"
