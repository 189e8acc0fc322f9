#!/bin/sh
# bench-team.sh: the team page of a 10,000-member workspace beside the seeded one, through
# nginx with wrk. A scratch workspace "bigco" gets BENCH_MEMBERS active members (default
# 10000) plus BENCH_PENDING invitations and BENCH_INACTIVE inactive members (default 25 each,
# so page 1 lists 100 people against the seed's 6), and "smallco" the same first page from
# 100 members; every page is fetched by its workspace's owner (all the forms).
# Each page is measured as served, with one cookie and with a session for every member,
# and beside a bare FastCGI page writing the same bytes, which shows what the size of the
# answer costs by itself.
# Prints req/s, p50, p99 and the ratios the issue sets (10k within 1.5x of the seeded page).
set -eu
export VAR="${BENCH_VAR:-$(mktemp -d /tmp/settings-bench-team.XXXXXX)}"
export PORT="${BENCH_PORT:-18920}"
export PGPORT="${BENCH_PGPORT:-15920}"
export PG_FSYNC=off LOGIN_RATE=100000r/s
DURATION=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-64}
MEMBERS=${BENCH_MEMBERS:-10000}
PENDING=${BENCH_PENDING:-25}
INACTIVE=${BENCH_INACTIVE:-25}
. "$(dirname "$0")/lib.sh"
# The delivery worker polls the database: not part of what a page costs.
WORKERS=""
# What the size of a workspace and the depth of a page cost the page's statement: with
# the rows of the first page kept per workspace (cgi/wscache.c) page 1 would be served
# from memory here and the comparison would say nothing about either. BENCH_TEAM_CACHE=1
# measures the pages as served by default.
export SETTINGS_WORKSPACE_CACHE="${BENCH_TEAM_CACHE:-0}"

cleanup() {
	pkill -f "$VAR/baseline" 2>/dev/null || true
	stack_stop; pg_stop; rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

pg_start >/dev/null
export SETTINGS_WORKERS="${BENCH_WORKERS:-4}"
stack_start
BASE="http://127.0.0.1:$PORT"

# make_workspace N SLUG ACTIVE PENDING INACTIVE: a scratch workspace (id ...b<N>) whose
# owner <SLUG>-owner@example.com signs in with the seed's password; the owner and
# ACTIVE-1 more people are active, then PENDING invitations, then INACTIVE members.
make_workspace() {
	as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -1 -v ws="00000000-0000-0000-0000-0000000000b$1" \
		-v slug="$2" -v members="$3" -v pending="$4" -v inactive="$5" <<'SQL'
INSERT INTO workspaces (id, name, slug) VALUES (:'ws', :'slug', :'slug');
INSERT INTO users (email, password_hash, full_name, is_verified)
SELECT :'slug' || '-owner@example.com', password_hash, 'Bench Owner', TRUE
  FROM users WHERE email = 'demo@example.com';
INSERT INTO billing_config (workspace_id, plan_type, plan_status, data_retention_days)
VALUES (:'ws', 'enterprise', 'active', 365);
INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at, last_active_at)
SELECT :'ws', id, 'owner', 'active', now() - interval '400 days', now()
  FROM users WHERE email = :'slug' || '-owner@example.com';
CREATE TEMP TABLE people AS
SELECT i, format('%s-person%s@example.com', :'slug', lpad(i::text, 6, '0')) AS email,
       CASE WHEN i < :members THEN 'active'
            WHEN i < :members + :pending THEN 'pending'
            ELSE 'inactive' END AS status
  FROM generate_series(1, :members + :pending + :inactive - 1) AS i;
INSERT INTO users (email, full_name, is_verified)
SELECT email, CASE WHEN i % 10 = 0 THEN NULL ELSE format('Person %s', lpad(i::text, 6, '0')) END,
       status <> 'pending'
  FROM people;
INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email,
                          invitation_token, invitation_expires_at, invited_by,
                          accepted_at, last_active_at, created_at)
SELECT :'ws', u.id, (ARRAY['admin', 'member', 'member', 'viewer'])[1 + p.i % 4], p.status,
       CASE WHEN p.status = 'pending' THEN u.email END,
       CASE WHEN p.status = 'pending' THEN encode(sha256(convert_to(u.email, 'UTF8')), 'hex') END,
       CASE WHEN p.status = 'pending' THEN now() + interval '3 days' END,
       (SELECT id FROM users WHERE email = :'slug' || '-owner@example.com'),
       CASE WHEN p.status <> 'pending' THEN now() - p.i * interval '1 minute' END,
       CASE WHEN p.status <> 'pending' THEN now() - (p.i % 5000) * interval '1 minute' END,
       now() - p.i * interval '1 minute' - interval '1 day'
  FROM people p JOIN users u ON u.email = p.email;
SQL
}
# The same first page (50 active, 25 pending, 25 inactive: 100 people), from a
# 100-member workspace and from a 10,000-member one: what the size alone costs.
make_workspace 1 smallco 50 "$PENDING" "$INACTIVE"
make_workspace 2 bigco "$MEMBERS" "$PENDING" "$INACTIVE"
# What autovacuum does to a live database (visibility map, trigram pending lists).
for t in users team_members; do
	as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -c "VACUUM ANALYZE $t"
done

# signin EMAIL: prints the session cookie header of a fresh sign-in.
signin() {
	jar="$VAR/jar-$1"
	curl -sS -c "$jar" -b "$jar" -o "$VAR/login.html" "$BASE/login"
	tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$VAR/login.html" | head -1)
	curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$tok" \
		--data-urlencode "email=$1" -d password=demo-password "$BASE/login"
	echo "Cookie: session=$(awk '$6 == "session" { print $7 }' "$jar")"
}
SEED=$(signin demo@example.com)
SMALL=$(signin smallco-owner@example.com)
BIG=$(signin bigco-owner@example.com)

# bench NAME URL COOKIE: one line; req/s in LAST, p99 in LAST_P99 (ms).
bench() {
	curl -sS -o "$VAR/page.html" -H "$3" "$2"
	bytes=$(wc -c <"$VAR/page.html")
	rows=$(grep -c 'scope="row"' "$VAR/page.html" || true)
	out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "$3" "$2")
	rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%d", $2 }')
	p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	printf '%-40s %7s req/s  p50 %8s  p99 %8s  %4s rows %7s bytes%s\n' "$1" "$rps" "$p50" \
		"$p99" "$rows" "$bytes" "${non2xx:+  non-2xx: $non2xx}"
	LAST=$rps
	LAST_P99=$(echo "$p99" | awk '/us$/ { printf "%.3f", $1 / 1000; next }
	                                /ms$/ { printf "%.3f", $1 + 0; next }
	                                /s$/  { printf "%.3f", $1 * 1000 }')
}
echo "wrk: 2 threads, $CONNS connections, ${DURATION}s each; $SETTINGS_WORKERS workers per page"
echo "smallco: 50 active, bigco: $MEMBERS active; both $PENDING pending invitations and $INACTIVE inactive members"
echo "one cookie per workspace:"
bench "seeded team page (6 people)" "$BASE/w/acme/settings/team" "$SEED"; rseed=$LAST; seed=$LAST; seed_p99=$LAST_P99
bench "100-member workspace, page 1" "$BASE/w/smallco/settings/team" "$SMALL"; rsmall=$LAST
bench "10k workspace, page 1" "$BASE/w/bigco/settings/team" "$BIG"; rbig=$LAST; big=$LAST; big_p99=$LAST_P99
bench "10k workspace, page 100" "$BASE/w/bigco/settings/team?page=100" "$BIG"; rdeep=$LAST
bench "10k workspace, search ?q=person 0012" "$BASE/w/bigco/settings/team?q=person%200012" "$BIG"; rsearch=$LAST
# What the bytes alone cost: a bare FastCGI page (one query) writing each page's bytes.
capture_page seed "$BASE/w/acme/settings/team" -H "$SEED"
capture_page big "$BASE/w/bigco/settings/team" -H "$BIG"
yardstick_start seed
yardstick_start big
YPORT=$((PORT + 1))
cat >"$VAR/nginx/bench.extra" <<CONF
server {
    listen 127.0.0.1:$YPORT;
    access_log off;
    fastcgi_buffer_size 16k;
    fastcgi_buffers 16 16k;
    fastcgi_busy_buffers_size 32k;
    location = /seed { fastcgi_pass unix:$VAR/run/yard-seed.sock; }
    location = /big { fastcgi_pass unix:$VAR/run/yard-big.sock; }
}
CONF
if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/nginx"; fi
as_user nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -g "pid $VAR/run/nginx.pid;" -s reload
sleep 0.5
echo "bare FastCGI + 1 query writing the same bytes:"
bench "the seeded page's bytes" "http://127.0.0.1:$YPORT/seed" "X-Bench: 1"; yseed=$LAST
bench "the 10k page 1's bytes" "http://127.0.0.1:$YPORT/big" "X-Bench: 1"; ybig=$LAST; ybig_p99=$LAST_P99

# Real traffic: a session for every active member of bigco (every role, 10,000 by
# default) and ten for each of smallco's 50, a random one per request, beside the bare
# page writing the 10k page 1's bytes; CPU per request as in scripts/bench.sh.
. "$ROOT/scripts/bench-lib.sh"
bench_sessions bigco 1 "$VAR/sessions-big"
bench_sessions smallco 10 "$VAR/sessions-small"
# Steady traffic: every member was active a moment ago, as in a workspace whose people
# come and go all day; else each of the 10,000 members' first view in the run would also
# write their once-a-minute activity stamp, and nearly every request here is a first view.
as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -c "UPDATE team_members tm SET last_active_at = now()
  FROM workspaces w WHERE w.id = tm.workspace_id AND w.slug IN ('bigco', 'smallco') AND tm.status = 'active'"
cut -d' ' -f2 "$VAR/sessions-big" >"$VAR/tokens-big"
cut -d' ' -f2 "$VAR/sessions-small" >"$VAR/tokens-small"
echo "random sessions, one per request (bigco: every active member; smallco: 10 each):"
rbench_header
Y_RPS=0 Y_P99=0 Y_CPU=0
rbench "yardstick: 10k page 1 bytes" "http://127.0.0.1:$YPORT/big" "$VAR/tokens-big" "$VAR/run/yard-big.pid"
Y_RPS=$R_RPS Y_P99=$R_P99 Y_CPU=$R_CPU
rbench "100-member ws, page 1" "$BASE/w/smallco/settings/team" "$VAR/tokens-small" "$VAR/run/team.pid"
rsmall_r=$R_RPS
rbench "10k ws, page 1" "$BASE/w/bigco/settings/team" "$VAR/tokens-big" "$VAR/run/team.pid"
rbig_r=$R_RPS
rbench "10k ws, page 100" "$BASE/w/bigco/settings/team?page=100" "$VAR/tokens-big" "$VAR/run/team.pid"
rdeep_r=$R_RPS
# The same page per role (up to 500 sessions of each): what each role's view costs.
for role in owner admin member viewer; do
	awk -v r="$role" '$1 == r { print $2 }' "$VAR/sessions-big" | head -500 >"$VAR/tokens-big-$role"
	rbench "10k ws, page 1, $role" "$BASE/w/bigco/settings/team" "$VAR/tokens-big-$role" "$VAR/run/team.pid"
done
awk -v s="$rsmall_r" -v b="$rbig_r" -v d="$rdeep_r" 'BEGIN {
	printf "random sessions: 10k page 1 / 100-member page 1: %.2f   (target >= 0.90)\n", b / s
	printf "random sessions: 10k page 100 / 10k page 1:      %.2f   (target >= 0.80)\n", d / b
}'
echo
awk -v s="$seed" -v b="$big" -v rs="$rseed" -v rm="$rsmall" -v rb="$rbig" -v rd="$rdeep" \
    -v rq="$rsearch" -v ys="$yseed" -v yb="$ybig" -v sp="$seed_p99" -v bp="$big_p99" -v yp="$ybig_p99" 'BEGIN {
	printf "10k page 1 / seeded page (req/s):          %.2f   (target >= %.2f, i.e. within 1.5x)\n", b / s, 1 / 1.5
	printf "... bare FastCGI with the same bytes:      %.2f   (what 134 KB against 10 KB costs by itself)\n", yb / ys
	printf "rendered 10k page 1 / 100-member page 1:   %.2f   (same 100 rows: the workspace size alone)\n", rb / rm
	printf "rendered 10k page 100 / 10k page 1:        %.2f\n", rd / rb
	printf "rendered 10k search / 10k page 1:          %.2f\n", rq / rb
	printf "p99: seeded %.2f ms, 10k page 1 %.2f ms (target <= 10 ms at 64 connections); bare FastCGI with the 10k bytes %.2f ms\n", sp, bp, yp
}'
