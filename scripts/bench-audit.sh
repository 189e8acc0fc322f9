#!/bin/sh
# bench-audit.sh: the audit log page with BENCH_AUDIT_ROWS (default 1,000,000) audit rows in
# the seeded workspace, beside the team page, through nginx with wrk: the first page, a page
# filtered by action, by person and by dates, a deep page by cursor. Then the whole log as
# CSV once: its time, size and the audit workers' peak memory (constant for any size).
set -eu
export VAR="${BENCH_VAR:-$(mktemp -d /tmp/settings-bench-audit.XXXXXX)}"
export PORT="${BENCH_PORT:-18940}"
export PGPORT="${BENCH_PGPORT:-15940}"
export PG_FSYNC=off LOGIN_RATE=100000r/s
DURATION=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-64}
ROWS=${BENCH_AUDIT_ROWS:-1000000}
. "$(dirname "$0")/lib.sh"
# The delivery worker polls the database: not part of what a page costs.
WORKERS=""

cleanup() { stack_stop; pg_stop; rm -rf "$VAR"; }
trap cleanup EXIT INT TERM

pg_start >/dev/null
export SETTINGS_WORKERS="${BENCH_WORKERS:-4}"
stack_start
BASE="http://127.0.0.1:$PORT"
ACME=00000000-0000-0000-0000-000000000001

# A year of history: one row in 1,000 is a rename, one in 10 by the admin, the rest by
# the owner; every row names a person, as the team actions do.
t0=$(date +%s)
as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -v rows="$ROWS" <<SQL
INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, resource_id, changes,
                        ip_address, user_agent, created_at)
SELECT '$ACME',
       CASE WHEN g % 10 = 0 THEN '10000000-0000-0000-0000-000000000002'::uuid
            ELSE '00000000-0000-0000-0000-000000000001'::uuid END,
       CASE WHEN g % 1000 = 0 THEN 'workspace.renamed' ELSE 'team_member.role_changed' END,
       'team_member', '10000000-0000-0000-0000-000000000003',
       jsonb_build_object('email', 'member@example.com', 'old_role', 'member', 'new_role', 'admin',
                          'old', jsonb_build_object('name', 'Acme ' || g), 'new', jsonb_build_object('name', 'Acme ' || g + 1)),
       '127.0.0.1', 'bench', now() - g * interval '30 seconds'
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE audit_logs;
SQL
echo "$ROWS audit rows loaded in $(( $(date +%s) - t0 )) s"

jar="$VAR/jar"
curl -sS -c "$jar" -b "$jar" -o "$VAR/login.html" "$BASE/login"
tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$VAR/login.html" | head -1)
curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$tok" \
	-d email=demo@example.com -d password=demo-password "$BASE/login"
COOKIE="Cookie: session=$(awk '$6 == "session" { print $7 }' "$jar")"

bench() {
	curl -sS -o "$VAR/page.html" -H "$COOKIE" "$2"
	rows=$(grep -c '<time datetime' "$VAR/page.html" || true)
	out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "$COOKIE" "$2")
	rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%d", $2 }')
	p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	printf '%-44s %7s req/s  p50 %8s  p99 %8s  %3s rows%s\n' "$1" "$rps" "$p50" "$p99" "$rows" \
		"${non2xx:+  non-2xx: $non2xx}"
	LAST=$rps
}
deep=$(curl -sS -H "$COOKIE" "$BASE/w/acme/settings/audit" | sed -n 's/.*href="[^"?]*?\(before=[^"]*\)" rel="next".*/\1/p')
# A cursor half way down the log: the row 500,000th newest (or the middle one).
mid=$(as_user psql -X -At "$(OWNER_URL)" -c "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || id
	FROM audit_logs WHERE workspace_id = '$ACME' ORDER BY created_at DESC, id DESC OFFSET $((ROWS / 2)) LIMIT 1")
echo "wrk: 2 threads, $CONNS connections, ${DURATION}s each; $SETTINGS_WORKERS workers per page"
bench "team page" "$BASE/w/acme/settings/team"; team=$LAST
bench "audit log, first page" "$BASE/w/acme/settings/audit"; first=$LAST
bench "audit log, second page (cursor)" "$BASE/w/acme/settings/audit?$deep"
bench "audit log, half way down (cursor)" "$BASE/w/acme/settings/audit?before=$mid"; middle=$LAST
bench "audit log, action=workspace.renamed (0.1%)" "$BASE/w/acme/settings/audit?action=workspace.renamed"; action=$LAST
bench "audit log, the admin's entries (10%)" "$BASE/w/acme/settings/audit?actor=10000000-0000-0000-0000-000000000002"; actor=$LAST
bench "audit log, one week a month ago" "$BASE/w/acme/settings/audit?from=$(date -u -d '-37 days' +%F)&to=$(date -u -d '-30 days' +%F)"; dates=$LAST
echo
t0=$(date +%s%N)
curl -sS -o "$VAR/audit.csv" -H "$COOKIE" "$BASE/w/acme/settings/audit.csv"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
hwm=0
for pid in $(pgrep -f "$BUILD/bin/audit" || true); do
	k=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
	[ "${k:-0}" -gt "$hwm" ] && hwm=$k
done
echo "CSV of the whole log: $(( $(wc -l <"$VAR/audit.csv") - 1 )) rows, $(( $(wc -c <"$VAR/audit.csv") / 1048576 )) MiB in $ms ms; audit workers' peak memory $((hwm / 1024)) MiB"
awk -v t="$team" -v f="$first" -v m="$middle" -v a="$action" -v p="$actor" -v d="$dates" 'BEGIN {
	printf "audit first page / team page (req/s):   %.2f   (target: about the same)\n", f / t
	printf "half way down / first page:             %.2f   (keyset: no OFFSET scan)\n", m / f
	printf "filtered by action / by person / dates: %.2f / %.2f / %.2f of the team page\n", a / t, p / t, d / t
}'
