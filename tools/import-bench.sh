#!/bin/sh
# import-bench: `aspgate user import` of N users with legacy hashes (default 200,000) against the sqlite3
# shell's `.import` of the same CSV into a table with the same unique keys (id, uid, username and email
# ignoring case, phone), in the same run, alternating, 3 rounds each; then the peak memory of importing
# -m rows (default 1,000,000) to show that it stays flat. Prints the medians and the ratio.
#
#   sh tools/import-bench.sh [N] [M]       (or: make bench-import)
#
# Needs Go, the sqlite3 shell (apt-get install sqlite3) and GNU time (/usr/bin/time).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
N=${1:-200000}
M=${2:-1000000}
command -v sqlite3 >/dev/null || { echo "import-bench: needs the sqlite3 shell (apt-get install sqlite3)"; exit 2; }
[ -x /usr/bin/time ] || { echo "import-bench: needs GNU time (apt-get install time)"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/import-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
$GO build -o "$tmp/aspgate" ./cmd/aspgate
$GO build -o "$tmp/importgen" ./tools/importgen
"$tmp/importgen" -n "$N" -o "$tmp/users.csv"
cat >"$tmp/ref.sql" <<SQL
CREATE TABLE users (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE, phone TEXT UNIQUE, first_name TEXT, last_name TEXT, is_lazy TEXT,
  user_type TEXT, gender TEXT, password_format TEXT, password_hash TEXT, password_salt TEXT);
.import --csv --skip 1 $tmp/users.csv users
SQL
seconds() { # seconds CMD...: wall time of CMD
	/usr/bin/time -f %e -o "$tmp/t" "$@" >/dev/null 2>&1
	cat "$tmp/t"
}
median() { sort -n | sed -n 2p; }
: >"$tmp/ref"
: >"$tmp/gate"
for round in 1 2 3; do
	rm -f "$tmp/ref.db" "$tmp/gate.db"*
	seconds sqlite3 "$tmp/ref.db" -init "$tmp/ref.sql" .quit >>"$tmp/ref"
	"$tmp/aspgate" migrate --db "$tmp/gate.db" >/dev/null 2>&1
	seconds "$tmp/aspgate" user import "$tmp/users.csv" --db "$tmp/gate.db" >>"$tmp/gate"
	echo "round $round: sqlite3 $(tail -1 "$tmp/ref") s, aspgate $(tail -1 "$tmp/gate") s"
done
ref=$(median <"$tmp/ref")
gate=$(median <"$tmp/gate")
rows=$("$tmp/aspgate" user list --limit 10000 --after $((N - 10)) --db "$tmp/gate.db" | tail -n +2 | wc -l)
echo "import of $N rows: sqlite3 .import $ref s, aspgate user import $gate s, ratio $(echo "$gate $ref" | awk '{printf "%.2f", $1/$2}') (target <= 4); last rows present: $rows"

"$tmp/importgen" -n "$M" -o "$tmp/big.csv"
rm -f "$tmp/gate.db"*
"$tmp/aspgate" migrate --db "$tmp/gate.db" >/dev/null 2>&1
/usr/bin/time -f "%e %M" -o "$tmp/t" "$tmp/aspgate" user import "$tmp/big.csv" --db "$tmp/gate.db" >/dev/null 2>&1
read -r secs kb <"$tmp/t"
echo "import of $M rows: $secs s, peak memory $((kb / 1024)) MB (target < 100 MB); file $(( $(wc -c <"$tmp/big.csv") / 1048576 )) MB"
