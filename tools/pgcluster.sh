#!/bin/sh
# A throwaway PostgreSQL cluster for the tests, from Debian's postgresql package:
#   sh tools/pgcluster.sh start   -> prints the cluster's folder; its DSN is in <folder>/dsn
#   sh tools/pgcluster.sh stop DIR
# initdb into a new temporary folder (as the postgres user when run as root: initdb refuses root), on a
# free port of 127.0.0.1 only, fsync off (the data dies with the tests); stop removes everything.
set -eu
bindir() {
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
start)
	BIN=$(bindir) || { echo "pgcluster: no PostgreSQL (Debian package postgresql) installed" >&2; exit 1; }
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/aspgate-pg.XXXXXX")
	chmod 755 "$DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$DIR"
	as_owner "$BIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; exit 1; }
	tries=0
	while :; do
		PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		if as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
			-o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		[ $tries -lt 5 ] || { cat "$DIR/server.log" >&2; exit 1; }
	done
	echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" >"$DIR/dsn"
	echo "$DIR"
	;;
stop)
	DIR=${2:?pgcluster: stop needs the folder start printed}
	BIN=$(bindir) || exit 0
	[ -d "$DIR/data" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
	;;
*)
	echo "usage: sh tools/pgcluster.sh start | stop DIR" >&2
	exit 2
	;;
esac
