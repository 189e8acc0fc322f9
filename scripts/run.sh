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

# Development: without a mail command, account emails (password reset links)
# are written to the page's log instead (var/log/password.log).
export SETTINGS_MAIL_LOG=${SETTINGS_MAIL_LOG:-1}
pg_start >/dev/null
stack_start
# The seeded invitation link works once: show it only while it still does.
invite=$(psql_super -tAc "SELECT 1 FROM team_members
  WHERE invitation_token = encode(sha256(convert_to('dev-invite-token-pending-example-com', 'UTF8')), 'hex')
    AND status = 'pending' AND deleted_at IS NULL AND invitation_expires_at > now()" 2>/dev/null || true)
cat <<MSG

  Settings is running: http://127.0.0.1:$PORT/login
  Seeded logins, all with the password demo-password:
    demo@example.com      owner of Acme Corp
    admin@example.com     admin     member@example.com   member
    viewer@example.com    viewer    owner@globex.example owner of Globex
MSG
if [ "$invite" = 1 ]; then
	echo "  Invitation for pending@example.com (works once):"
	echo "    http://127.0.0.1:$PORT/invite/accept?token=dev-invite-token-pending-example-com"
fi
cat <<MSG
  Password reset emails: ${SETTINGS_SENDMAIL:-not sent; their links are in $VAR/log/password.log}
  Logs: $VAR/log/ (build, nginx, postgresql, one file per page)
  Ctrl-C stops everything.

MSG
# Twice a second, supervision: an executable whose master died is started
# again (its page answers 503 meanwhile). Once a day (and now): erase
# workspaces deleted more than 30 days ago.
ticks=0
while :; do
	if [ $((ticks % 172800)) -eq 0 ]; then
		sh "$ROOT/scripts/settings-purge" >>"$VAR/log/purge.log" 2>&1 || true
	fi
	ticks=$((ticks + 1))
	sleep 0.5 & sleeper=$!
	wait "$sleeper" || true
	stack_supervise
done
