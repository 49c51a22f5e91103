#!/bin/sh
# Re-records testdata/golden/decode/<app>.jsonl: how the legacy formatters read the bodies listed in
# tools/oracle/decode-bodies/<app>.txt (format: see tools/oracle/record_decode.py), one line per body with the
# oracle's `deserialize` output and the model-state keys it logged.
# usage: record-decode.sh <oracle work dir>   (the folder holding bin/oracle.exe, as `make oracle` builds it)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <oracle work dir>" >&2; exit 64; }
oracle="$1/bin/oracle.exe"
[ -f "$oracle" ] || { echo "no oracle at $oracle (run 'make oracle')" >&2; exit 1; }
command -v mono >/dev/null 2>&1 || { echo "mono is not installed: run 'make oracle-deps' (as root) first" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed" >&2; exit 1; }
cd "$(dirname "$0")/../.."
exec python3 tools/oracle/record_decode.py "$oracle" tools/oracle/decode-bodies testdata/golden/decode
