#!/bin/sh
# bench-cgi.sh: what one signed-in team page costs as plain CGI under Apache (mod_cgid),
# run by bench.sh against its running cluster (VAR, PGPORT) with a session (BENCH_SESSION).
#  - CPU per page: N sequential GETs through a private Apache; the CPU time of Apache and
#    of PostgreSQL (the backend each CGI process starts, reaped by the postmaster), from
#    /proc, divided by N; plus that of the CGI process itself, run N times from a shell
#    (Apache's CGI daemon does not report its children's). Target < 15 ms.
#    BENCH_CGI_PGBOUNCER=1: the same through PgBouncer (transaction pooling, warm backends).
#  - instructions of the CGI process alone (valgrind --tool=callgrind), and its task
#    clock (perf stat) where the machine allows.
set -eu
. "$(dirname "$0")/lib.sh"
. "$ROOT/scripts/apache.sh"
N=${BENCH_CGI_REQUESTS:-200}
bp=0
# BENCH_CGI_PGBOUNCER=1: through the running PgBouncer (scripts/pgbouncer.sh), whose
# CPU time is then counted with PostgreSQL's.
if [ "${BENCH_CGI_PGBOUNCER:-0}" = 1 ]; then
	. "$ROOT/scripts/pgbouncer.sh"
	DATABASE_URL=$(PGB_URL)
	export DATABASE_URL
	bp=$(cat "$VAR/pgb/pgbouncer.pid")
fi
URL=/w/acme/settings/team
COOKIE="Cookie: session=$BENCH_SESSION"

# ticks PID...: user + system time of the processes and of their reaped children.
ticks() {
	for _p in "$@"; do cat "/proc/$_p/stat" 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
tree() { echo "$1"; pgrep -P "$1" || true; }

apache_start
trap 'apache_stop' EXIT INT TERM
pm=$(head -1 "$VAR/pg/postmaster.pid")
ap=$(cat "$VAR/apache/run/fg.pid")
B="http://127.0.0.1:$APACHE_PORT"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "$COOKIE" "$B$URL")
[ "$status" = 200 ] || { echo "CGI team page answered $status"; exit 1; }
a0=$(ticks $(tree "$ap")); p0=$(ticks $(tree "$pm") $bp); t0=$(date +%s%N)
i=0
while [ $i -lt "$N" ]; do
	curl -sS -o /dev/null -H "$COOKIE" "$B$URL"
	i=$((i + 1))
done
t1=$(date +%s%N); a1=$(ticks $(tree "$ap")); p1=$(ticks $(tree "$pm") $bp)
hz=$(getconf CLK_TCK)

# The CGI processes are not counted above (Apache's CGI daemon does not report them):
# the same executable, same environment, N times from a shell, whose children's CPU
# time (the shell builtin `times`) is theirs: the environment is set once, outside the
# loop, so that each child is the executable alone (no env(1) started before it).
cgi_env() {
	env -i PATH=/usr/bin:/bin REQUEST_METHOD=GET REQUEST_URI="$URL" GATEWAY_INTERFACE=CGI/1.1 \
		REMOTE_ADDR=127.0.0.1 HTTP_HOST="127.0.0.1:$APACHE_PORT" HTTP_COOKIE="session=$BENCH_SESSION" \
		DATABASE_URL="${DATABASE_URL:-$(APP_URL)}" SETTINGS_TEMPLATES="$ROOT/templates" "$@"
}
export URL APACHE_PORT BENCH_SESSION ROOT BUILD
c=$(env -i REQUEST_METHOD=GET REQUEST_URI="$URL" GATEWAY_INTERFACE=CGI/1.1 \
	REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 HTTP_COOKIE="session=$BENCH_SESSION" \
	DATABASE_URL="${DATABASE_URL:-$(APP_URL)}" SETTINGS_TEMPLATES="$ROOT/templates" \
	/bin/sh -c '
	i=0
	while [ $i -lt "$1" ]; do
		"$0" >/dev/null 2>&1
		i=$((i + 1))
	done
	times' "$BUILD/bin/team" "$N" | tail -1 | awk '{
		n = split($0, f, " "); t = 0
		for (i = 1; i <= n; i++) { split(f[i], m, "m"); sub(/s$/, "", m[2]); t += m[1] * 60 + m[2] }
		printf "%d", t * 1000000 }')
via=""; [ "$bp" != 0 ] && via=" through PgBouncer"
awk -v via="$via" -v bp="$bp" -v n="$N" -v a=$((a1 - a0)) -v p=$((p1 - p0)) -v c="$c" -v hz="$hz" -v w=$((t1 - t0)) 'BEGIN {
	ap = a * 1000 / hz / n; pg = p * 1000 / hz / n; cg = c / 1000 / n
	printf "CGI team page under Apache%s: %d GETs, one at a time, %.1f ms each (wall)\n", via, n, w / 1e6 / n
	printf "  CPU per page: %.1f ms = Apache %.1f + CGI process %.1f + PostgreSQL%s %.1f   (target < 15 ms)\n",
		ap + cg + pg, ap, cg, bp ? " and PgBouncer" : "", pg
}'

# The CGI process alone, as Apache runs it (the same environment, no web server): all
# its instructions, and those of the dynamic loader's start-up (_dl_start: loading and
# binding the shared libraries, before any of their initialisers or main run).
if command -v valgrind >/dev/null; then
	out=$(cgi_env valgrind --tool=callgrind --callgrind-out-file="$VAR/cgi.callgrind" "$BUILD/bin/team" 2>&1 >/dev/null |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	ld=$(callgrind_annotate --inclusive=yes "$VAR/cgi.callgrind" 2>/dev/null |
		awk '/:_dl_start / { gsub(/,/, "", $1); print $1; exit }')
	libs=$(ldd "$BUILD/bin/team" | grep -c '=>')
	libpq=shared; ldd "$BUILD/bin/team" | grep -q 'libpq\.so' || libpq=static
	printf '  instructions of the CGI process: %s, of which the dynamic loader %s (callgrind; %s shared libraries, libpq %s)\n' \
		"$out" "${ld:-?}" "$libs" "$libpq"
	rm -f "$VAR/cgi.callgrind"
fi
if command -v perf >/dev/null && cgi_env perf stat -x, -e task-clock -o /dev/stderr "$BUILD/bin/team" \
	2>"$VAR/perf.txt" >/dev/null; then
	awk -F, '/task-clock/ { printf "  task clock of the CGI process: %.1f ms (perf stat)\n", $1 }' "$VAR/perf.txt"
fi
