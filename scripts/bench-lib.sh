# bench-lib.sh: helpers for the benchmarks, sourced after scripts/lib.sh with a running
# stack (VAR, PGPORT, BUILD, ROOT set).
#  - bench_sessions SLUG PER FILE: PER sessions for each active member of workspace SLUG,
#    one "role token" a line in FILE.
#  - bench_cpu_ticks / bench_cpu_snapshot: CPU time of this run's own process trees.
#  - rbench NAME URL TOKENFILE EXE: wrk with a random session per request, req/s, p50,
#    p99 and CPU microseconds per request for nginx, the executable and PostgreSQL.
#  - bench_callgrind EXE URI TOKEN: instructions of one request as plain CGI.

# Sessions are written straight into the sessions table the way session_start()
# (cgi/app.c) writes them: a random token of 32 bytes in unpadded base64url (43
# characters) goes in the cookie; the table keeps its SHA-256 in hex. Signing in 500
# times through /login would cost 500 bcrypt hashes (cost 11) and measure sign-in, not
# the pages; scripts/bench.sh still signs one session in through /login and checks that
# both kinds of session answer alike.
bench_sessions() {
	as_user psql -X -q -t -A -F ' ' -v ON_ERROR_STOP=1 "$(OWNER_URL)" -v slug="$1" -v per="$2" <<'SQL' >"$3"
CREATE TEMP TABLE bench_tokens AS
SELECT tm.user_id, tm.role,
       translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'),
                 '+/=', '-_') AS token,
       translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'),
                 '+/=', '-_') AS csrf
  FROM team_members tm
  JOIN workspaces w ON w.id = tm.workspace_id
 CROSS JOIN generate_series(1, :per)
 WHERE w.slug = :'slug' AND tm.status = 'active';
INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent, ip)
SELECT encode(sha256(convert_to(token, 'UTF8')), 'hex'), user_id, csrf,
       now() + interval '1 day', 'bench', '127.0.0.1'
  FROM bench_tokens;
SELECT role, token FROM bench_tokens ORDER BY random();
SQL
}

# bench_cpu_ticks PID...: user + system time (and that of reaped children) in clock ticks.
bench_cpu_ticks() {
	for _p in "$@"; do cat "/proc/$_p/stat" 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
# bench_tree PIDFILE: the process in PIDFILE and its children.
bench_tree() {
	[ -s "$1" ] || return 0
	_m=$(cat "$1")
	echo "$_m"
	pgrep -P "$_m" || true
}
# bench_cpu_snapshot PIDFILE: "nginx app postgres" ticks, the app being PIDFILE's tree.
bench_cpu_snapshot() {
	echo "$(bench_cpu_ticks $(bench_tree "$VAR/run/nginx.pid"))" \
		"$(bench_cpu_ticks $(bench_tree "$1"))" \
		"$(bench_cpu_ticks $(head -1 "$VAR/pg/postmaster.pid"; pgrep -P "$(head -1 "$VAR/pg/postmaster.pid")"))"
}

# rbench NAME URL TOKENFILE PIDFILE: one line; sets R_RPS, R_P99 (ms), R_CPU (µs total).
RBENCH_LUA="$ROOT/tests/bench/random-session.lua"
rbench() {
	_name=$1 _url=$2 _tokens=$3 _pidf=$4
	_before=$(bench_cpu_snapshot "$_pidf")
	_out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$RBENCH_LUA" "$_url" -- "$_tokens" </dev/null)
	_after=$(bench_cpu_snapshot "$_pidf")
	_hz=$(getconf CLK_TCK)
	_sessions=$(wc -l <"$_tokens")
	echo "$_out" | awk -v name="$_name" -v b="$_before" -v a="$_after" -v hz="$_hz" \
		-v sessions="$_sessions" -v yrps="${Y_RPS:-0}" -v yp99="${Y_P99:-0}" -v ycpu="${Y_CPU:-0}" '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000
		return v * 1000
	}
	/^Requests\/sec/ { rps = $2 }
	/requests in/ { n = $1 }
	$1 == "50%" { p50 = $2 }
	$1 == "99%" { p99 = $2 }
	/^unexpected:/ { bad = $2 }
	END {
		split(b, x, " "); split(a, y, " ")
		ng = n ? (y[1] - x[1]) * 1e6 / hz / n : 0
		ap = n ? (y[2] - x[2]) * 1e6 / hz / n : 0
		pg = n ? (y[3] - x[3]) * 1e6 / hz / n : 0
		cpu = ng + ap + pg
		r = (yrps > 0) ? sprintf("%5.2f", rps / yrps) : "    1"
		c = (ycpu > 0 && cpu > 0) ? sprintf("%5.2f", ycpu / cpu) : "    1"
		q = (yp99 > 0) ? sprintf("%5.2f", ms(p99) / yp99) : "    1"
		printf "%-28s %5d %7d %9s %9s  %5.0f %5.0f %5.0f %6.0f   %s  %s  %s%s\n",
			name, sessions, rps, p50, p99, ng, ap, pg, cpu, r, c, q,
			(bad > 0 ? "   unexpected answers: " bad : "")
		printf "R_RPS=%d R_P99=%.3f R_CPU=%.1f\n", rps, ms(p99), cpu > "/dev/stderr"
	}' 2>"$VAR/rbench.last"
	eval "$(cat "$VAR/rbench.last")"
}
rbench_header() {
	echo "page (random session each)   sess.  req/s       p50       p99  CPU us/req: nginx  app    pg  total  ÷yard: req/s  CPU  p99x"
}

# bench_callgrind EXE URI TOKEN: instructions of one request as plain CGI (the whole
# process, and inside the request handler alone), "total handler" on stdout.
bench_callgrind() {
	_q=${2#*\?}; [ "$_q" = "$2" ] && _q=""
	env -i PATH=/usr/bin:/bin REQUEST_METHOD=GET REQUEST_URI="$2" QUERY_STRING="$_q" \
		GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 HTTP_HOST="127.0.0.1:$PORT" \
		HTTP_COOKIE="session=$3" DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" \
		SETTINGS_BASE_URL="http://127.0.0.1:$PORT" STRIPE_WEBHOOK_SECRET="$STRIPE_WEBHOOK_SECRET" \
		SETTINGS_CREDENTIALS_KEYS="$SETTINGS_CREDENTIALS_KEYS" \
		valgrind --tool=callgrind --callgrind-out-file="$VAR/callgrind.out" \
		"$BUILD/bin/$1" </dev/null >"$VAR/callgrind.page" 2>"$VAR/callgrind.log" || true
	_status=$(sed -n '1,20s/^Status: \([0-9]*\).*/\1/p' "$VAR/callgrind.page" | head -1)
	_total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$VAR/callgrind.log")
	_handle=$(callgrind_annotate --inclusive=yes "$VAR/callgrind.out" 2>/dev/null |
		awk '/[^_a-z]handle[ \]]|:handle$|:handle / { gsub(/,/, "", $1); print $1; exit }')
	echo "${_total:-?} ${_handle:-?} ${_status:-200}"
}

# bench_callgrind_warm EXE PATH TOKENFILE [K]: instructions per request of a warm FastCGI
# worker (what a served page costs the executable). The page runs under callgrind with
# one worker on $VAR/run/cg.sock, reached through nginx on CG_PORT (a server block that
# scripts/bench.sh adds), twice: two warm-up requests, then none, or K (default 20), each
# with a session picked at random from TOKENFILE; the worker's counts are read when it
# exits, and the difference of the two runs over K is the figure (start-up, connection,
# statement preparation and the warm-up fall out). Prints "instructions statuses".
bench_cg_run() {
	rm -f "$VAR/run/cg.sock" "$VAR"/cg.out.*
	spawn_bg "$VAR/run/cg.pid" "$VAR/log/cg.log" env SETTINGS_WORKERS=1 \
		SETTINGS_SOCKET="$VAR/run/cg.sock" SETTINGS_SOCKET_MODE=0600 \
		valgrind --tool=callgrind --callgrind-out-file="$VAR/cg.out.%p" "$BUILD/bin/$1"
	_m=$(cat "$VAR/run/cg.pid")
	_i=0
	while [ ! -S "$VAR/run/cg.sock" ] && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	_t=$(head -1 "$3")
	curl -sS -o /dev/null -H "Cookie: session=$_t" "http://127.0.0.1:$CG_PORT$2" || true
	curl -sS -o /dev/null -H "Cookie: session=$_t" "http://127.0.0.1:$CG_PORT$2" || true
	if [ "$4" -gt 0 ]; then
		shuf -n "$4" -r "$3" | while read -r _t; do
			curl -sS -o /dev/null -w '%{http_code}\n' -H "Cookie: session=$_t" \
				"http://127.0.0.1:$CG_PORT$2"
		done | sort | uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? "," : ""), $1, $2 }' >"$VAR/cg.codes"
	fi
	_w=$(pgrep -P "$_m" | head -1)
	kill "$_m" 2>/dev/null || true
	_i=0
	while { kill -0 "$_m" 2>/dev/null || { [ -n "$_w" ] && kill -0 "$_w" 2>/dev/null; }; } && [ $_i -lt 300 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	rm -f "$VAR/run/cg.pid" "$VAR/run/cg.sock"
	awk '/^(summary|totals):/ { s = $2 } END { print s + 0 }' "$VAR/cg.out.$_w" 2>/dev/null || echo 0
}
bench_callgrind_warm() {
	_k=${4:-20}
	_a=$(bench_cg_run "$1" "$2" "$3" 0)
	_b=$(bench_cg_run "$1" "$2" "$3" "$_k")
	if [ "$_a" -gt 0 ] && [ "$_b" -gt 0 ]; then
		echo "$(((_b - _a) / _k)) $(cat "$VAR/cg.codes")"
	else
		echo "? $(cat "$VAR/cg.codes" 2>/dev/null)"
	fi
}
