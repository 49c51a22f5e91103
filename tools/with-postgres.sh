#!/bin/sh
# Runs a command with a throwaway PostgreSQL cluster (tools/pgcluster.sh): installs Debian's postgresql
# when it is missing and this user may (root, or passwordless sudo), starts the cluster, exports its DSN
# as ASPGATE_TEST_POSTGRES (and ASPGATE_REQUIRE_POSTGRES, so the PostgreSQL tests fail rather than skip),
# runs the command, and stops and removes the cluster whatever happens. Without PostgreSQL it says so and
# runs the command alone: those tests then skip, saying why.
set -u
here=$(dirname "$0")
have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
if ! have_pg; then
	if [ "$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=no; fi
	if [ "$SUDO" != no ]; then
		echo "with-postgres: installing Debian's postgresql"
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
			$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null ||
			echo "with-postgres: the install failed"
	fi
fi
DIR=
if have_pg && DIR=$(sh "$here/pgcluster.sh" start); then
	trap 'sh "$here/pgcluster.sh" stop "$DIR"' EXIT INT TERM
	ASPGATE_TEST_POSTGRES=$(cat "$DIR/dsn")
	ASPGATE_REQUIRE_POSTGRES=1
	export ASPGATE_TEST_POSTGRES ASPGATE_REQUIRE_POSTGRES
	echo "with-postgres: a throwaway cluster on ${ASPGATE_TEST_POSTGRES#*@}"
else
	echo "with-postgres: no PostgreSQL cluster: the PostgreSQL tests skip"
fi
"$@"
