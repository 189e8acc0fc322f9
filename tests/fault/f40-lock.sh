#!/bin/sh
# f40-lock.sh: a table held under an ACCESS EXCLUSIVE lock. Requests that need
# it answer the 503 page within the configured lock_timeout (by default
# SETTINGS_LOCK_TIMEOUT_MS=3000), long before the lock is released; a write
# refused that way left nothing; pages that do not need the table answer as
# usual; once the lock is gone everything works again.
. "$ROOT/tests/fault/lib.sh"

HOLD=20              # seconds the lock is held at most
LOCK_MS=${SETTINGS_LOCK_TIMEOUT_MS:-3000}

login owner demo@example.com
get owner "$TEAM"
is "the team page answers" "$STATUS" 200
tok=$(csrf owner)
get in /login
intok=$(csrf in)

psql_super -c "BEGIN; LOCK TABLE team_members IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($HOLD); COMMIT;" \
	>/dev/null 2>&1 &
holder=$!
i=0
until [ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'team_members'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
done
t_lock=$(now_ms)

# timed KIND: runs the request (req args follow), records its time in ms.
timed() {
	_k=$1; shift
	_t=$(now_ms); "$@"; ms=$(($(now_ms) - _t))
	echo "# $_k: $STATUS after $ms ms (lock_timeout $LOCK_MS ms)"
}
timed "team page" get owner "$TEAM"
is "the team page answers 503 under the lock" "$STATUS" 503
check "... the 503 page" body_has 'temporarily unavailable'
check "... within twice the lock_timeout ($ms ms)" test "$ms" -lt $((2 * LOCK_MS))
get_ms=$ms
timed "invite" post_raw owner "$TEAM/invite" "csrf_token=$tok" email=locked@example.com role=viewer
is "an invitation answers 503 under the lock" "$STATUS" 503
check "... within twice the lock_timeout ($ms ms)" test "$ms" -lt $((2 * LOCK_MS))
post_ms=$ms
timed "sign-in" post_raw in /login "csrf_token=$intok" email=viewer@example.com password=demo-password
is "a sign-in (which reads memberships) answers 503 or succeeds, never hangs" \
	"$(case $STATUS in 303|503) echo fine ;; *) echo "$STATUS" ;; esac)" fine
timed "billing page" get owner /w/acme/settings/billing
billing_status=$STATUS

# statement_timeout bounds the wait too, when lock_timeout is off: the team
# page as one CGI request with SETTINGS_LOCK_TIMEOUT_MS=0.
token=$(printf 'faultsession%031d' 0)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
     VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-fault', now() + interval '1 hour')" >/dev/null
t0=$(now_ms)
as_user env -i PATH="$PATH" REQUEST_METHOD=GET REQUEST_URI="$TEAM" HTTP_HOST=example.test \
	HTTP_COOKIE="session=$token" DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" \
	SETTINGS_LOCK_TIMEOUT_MS=0 SETTINGS_STATEMENT_TIMEOUT_MS=1500 \
	"$BUILD/bin/team" >"$T/cgi" 2>"$T/cgi.err"
stmt_ms=$(($(now_ms) - t0))
check "with lock_timeout off, statement_timeout answers the 503 page ($stmt_ms ms; statement_timeout 1500 ms)" \
	grep -q '^Status: 503' "$T/cgi"
check "... long before the lock is released" test "$stmt_ms" -lt 10000
# (As plain CGI the start-up, which prepares the statements, waits once too.)
echo "# statement_timeout 1500 ms, lock_timeout off, plain CGI: 503 after $stmt_ms ms"
check "the lock was still held all along" test $(($(now_ms) - t_lock)) -lt $((HOLD * 1000))

# Release the lock (end the holder's session), then everything works.
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE query LIKE '%LOCK TABLE team_members%' AND pid <> pg_backend_pid()" >/dev/null
wait $holder
is "the refused invitation left nothing" \
	"$(sql "SELECT (SELECT count(*) FROM team_members WHERE invitation_email = 'locked@example.com')
	       + (SELECT count(*) FROM audit_logs WHERE changes::text LIKE '%locked@example.com%')")" 0
get owner "$TEAM"
is "after the lock the team page answers 200" "$STATUS" 200
post owner "$TEAM/invite" email=unlocked@example.com role=viewer
is "... and an invitation is acknowledged" "$STATUS" 303
is "... and stored" "$(sql "SELECT count(*) FROM team_members WHERE invitation_email = 'unlocked@example.com'")" 1
echo "# under the lock: team GET 503 in $get_ms ms, invite POST 503 in $post_ms ms, billing page $billing_status"
