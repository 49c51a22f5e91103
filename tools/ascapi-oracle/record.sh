#!/bin/sh
# Records testdata/golden/r7bind/ascapi.jsonl: the request bodies of tools/ascapi-oracle/cases read by
# ascapi-oracle under Mono. usage: JSONNET_DLL=/path/to/Newtonsoft.Json.dll sh tools/ascapi-oracle/record.sh
# The assembly must be a Json.NET whose XmlNodeConverter and JsonTextReader are 13.0.1's (12.0.1 and later
# have the same code there; the oracle sets 13.0.1's MaxDepth of 64 itself). Needs mono and mcs.
set -e
cd "$(dirname "$0")/../.."
[ -f "$JSONNET_DLL" ] || { echo "set JSONNET_DLL to a Newtonsoft.Json.dll" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$JSONNET_DLL" "$work/Newtonsoft.Json.dll"
mcs -nowarn:618 -out:"$work/ascapi-oracle.exe" -r:"$work/Newtonsoft.Json.dll" -r:System.Web.dll -r:System.Xml.Linq.dll \
  -r:System.Xml.dll -r:System.Core.dll tools/ascapi-oracle/Program.cs
go run ./tools/ascapi-oracle/cases > "$work/cases.jsonl"
TZ=UTC mono "$work/ascapi-oracle.exe" < "$work/cases.jsonl" > testdata/golden/r7bind/ascapi.jsonl
echo "recorded $(wc -l < testdata/golden/r7bind/ascapi.jsonl) cases"
