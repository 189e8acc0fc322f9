#!/bin/sh
# t016-make-run.sh: `make run` on its own cluster: a short banner (URL, logins, logs), no compiler lines; a second `make run` does not offer an invitation link that was used.
. "$ROOT/tests/e2e/lib.sh"

# A second stack beside the test one (its own state directory and ports).
RUN_VAR=$(mktemp -d /tmp/settings-run.XXXXXX)
RUN_PORT=$((PORT + 3))
RUN_PGPORT=$((PGPORT + 3))
chmod 755 "$RUN_VAR"
runner=
stop_run() {
	[ -n "$runner" ] || return 0
	kill -TERM "-$runner" 2>/dev/null || true
	i=0; while kill -0 "$runner" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	runner=
}
trap 'stop_run; rm -rf "$RUN_VAR" "$T"' EXIT

# start_run OUT: `make run` in its own process group; waits for its banner.
start_run() {
	( cd "$ROOT" && exec setsid make --no-print-directory run VAR="$RUN_VAR" PORT=$RUN_PORT PGPORT=$RUN_PGPORT ) \
		>"$1" 2>&1 </dev/null &
	runner=$!
	i=0
	until grep -q 'Ctrl-C stops everything' "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 1200 ] || ! kill -0 "$runner" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
}
run_sql() { ( VAR=$RUN_VAR PGPORT=$RUN_PGPORT; psql_super -tAc "$1" ); }

# Force a build step: the build must stay quiet anyway.
touch "$ROOT/cgi/rbac.c"
check "make run starts and prints its banner" start_run "$T/run1"
check "the banner gives the URL" grep -q "http://127.0.0.1:$RUN_PORT/login" "$T/run1"
check "... the seeded logins and their password" sh -c "grep -q 'demo@example.com *owner of Acme Corp' '$T/run1' && grep -q 'demo-password' '$T/run1' && grep -q 'owner@globex.example' '$T/run1'"
check "... where the logs go" grep -q "Logs: $RUN_VAR/log/" "$T/run1"
check "... the unused invitation link" grep -q "/invite/accept?token=dev-invite-token-pending-example-com" "$T/run1"
check "no compiler lines (the build's output goes to a file)" sh -c "! grep -q -- '-Wall\|^cc \|^gcc ' '$T/run1' && test -f '$RUN_VAR/log/build.log'"
check "a short banner: at most 15 lines" test "$(wc -l <"$T/run1")" -le 15
is "the site answers" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RUN_PORT/healthz")" 200

# The invitation is accepted; the next `make run` must not offer its link.
run_sql "UPDATE team_members SET status = 'active', accepted_at = now(), invitation_token = NULL
          WHERE invitation_email = 'pending@example.com'" >/dev/null
stop_run
check "Ctrl-C (SIGTERM) stops everything it started" sh -c "! curl -s -o /dev/null 'http://127.0.0.1:$RUN_PORT/healthz'"
check "a second make run starts again on the same data" start_run "$T/run2"
check "... without the used invitation link" sh -c "! grep -q 'invite/accept' '$T/run2'"
is "... on the same data (the invitation stays accepted)" "$(run_sql "SELECT status FROM team_members WHERE invitation_email = 'pending@example.com'")" active
stop_run
