# checklib.sh: what the check scripts (delivery-check.sh, r7-check.sh) share. Sourced, not run; the
# script sets NAME (its name, for messages) and tmp (its temporary folder, whose *.log and *.err files
# die shows) before using these.

passed=0
failed=0
failures=
pass() { echo "PASS  $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL  $1"
	failed=$((failed + 1))
	failures="$failures
FAIL  $1"
}

# die MESSAGE: stops the check, showing the end of every log the script kept.
die() {
	echo "$NAME: $*" >&2
	for f in "$tmp"/*.log "$tmp"/*.err; do
		if [ -s "$f" ]; then
			echo "--- ${f##*/}" >&2
			tail -n 20 "$f" >&2
		fi
	done
	exit 1
}

# str NAME: the value of the JSON string member NAME in each line of stdin (escapes left as they are).
str() { sed -n -E 's/.*"'"$1"'":"(([^"\\]|\\.)*)".*/\1/p'; }
# num NAME: the value of the JSON number member NAME in each line of stdin.
num() { sed -n -E 's/.*"'"$1"'":(-?[0-9]+).*/\1/p'; }

# until_found SECONDS CMD...: runs CMD every 0.2 s until it prints something; prints that. 1 on timeout.
until_found() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		out=$("$@" 2>/dev/null || true)
		if [ -n "$out" ]; then
			printf '%s\n' "$out"
			return 0
		fi
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# first_line PATTERN FILE: the first line of FILE matching PATTERN.
first_line() { grep -e "$1" "$2" | head -n 1; }
