#!/bin/sh
# run.sh: `make run`: the local cluster, the executables and nginx, in the foreground.
set -eu
. "$(dirname "$0")/lib.sh"

sleeper=
cleanup() {
	# A second Ctrl-C (or the terminal closing) must not cut the cleanup short.
	trap '' INT TERM HUP
	trap - EXIT
	echo
	echo "stopping..."
	# A signal to this script alone (kill, a supervisor) leaves the sleep below
	# running, and stack_stop waits for every child.
	if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
	stack_stop
	pg_stop
	exit 0
}
trap cleanup INT TERM HUP EXIT

pg_start
stack_start
health_check_start
cat <<MSG

  Settings is running: http://127.0.0.1:$PORT/login

  Seeded logins (password: demo-password):
    demo@example.com      owner of Acme Corp (/w/acme/settings)
    admin@example.com     admin
    member@example.com    member
    viewer@example.com    viewer
    owner@globex.example  owner of Globex (/w/globex/settings)
  Pending invitation link for pending@example.com:
    http://127.0.0.1:$PORT/invite/accept?token=dev-invite-token-pending-example-com

  Integrations: the delivery worker sends alerts and test events; health checks
  run every 5 minutes (logs: delivery.log, health-check.log).
  Database: make psql (cluster in $VAR/pg, port $PGPORT). Logs: $VAR/log/
  Press Ctrl-C to stop.
MSG
while :; do sleep 3600 & sleeper=$!; wait "$sleeper" || true; done
