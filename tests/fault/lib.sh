# lib.sh: helpers for the fault cases, on top of the end-to-end helpers.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
TEAM=/w/acme/settings/team

# restart_db: PostgreSQL restarts (fast shutdown); the workers' connections die.
restart_db() {
	as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w restart -o "-p $PGPORT" \
		-l "$VAR/log/postgresql.log" >/dev/null 2>&1
}

# session_of JAR: the stored form (SHA-256 hex) of the jar's session cookie, or "".
session_of() {
	_c=$(awk '$6 ~ /^(__Host-)?session$/ && $7 != "" { v = $7 } END { print v }' "$T/$1.jar" 2>/dev/null)
	[ -n "$_c" ] && printf '%s' "$_c" | sha256sum | cut -d' ' -f1
}

# page_pids PAGE: the master's pid, then its workers' pids.
page_pids() {
	_m=$(cat "$VAR/run/$1.pid" 2>/dev/null)
	[ -n "$_m" ] && echo "$_m" && pgrep -P "$_m"
}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# app_connections: the executables' open database connections.
app_connections() {
	sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'settings_app' AND pid <> pg_backend_pid()"
}

# wait_healthy [SECONDS]: until /healthz answers 200.
wait_healthy() {
	_w=0
	until curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; do
		_w=$((_w + 1)); [ $_w -gt $((${1:-20} * 10)) ] && return 1; sleep 0.1
	done
}
