#!/bin/sh
# f50-slowloris.sh: many slow connections (headers that never end) arriving at
# SLOW_RATE a second for SLOW_SECONDS, against the development configuration.
# Meanwhile the app keeps answering: every probe gets its page (never a 5xx
# from nginx, never a bare one), and nginx sends no 500 to the slow clients.
. "$ROOT/tests/fault/lib.sh"

RATE=${SLOW_RATE:-1000}
SECS=${SLOW_SECONDS:-3}
login owner demo@example.com

python3 "$ROOT/tests/fault/slowloris.py" 127.0.0.1 "$PORT" "$RATE" "$SECS" >"$T/slow.out" 2>&1 &
slow=$!
sleep 0.5
probes=0; bad=0; bare=0; worst=0
while kill -0 "$slow" 2>/dev/null; do
	for p in /login "$TEAM" /; do
		t0=$(now_ms)
		s=$(curl -s -m 20 -o "$T/probe" -D "$T/probeh" -w '%{http_code}' -b "$T/owner.jar" "$BASE$p")
		el=$(($(now_ms) - t0)); [ "$el" -gt "$worst" ] && worst=$el
		probes=$((probes + 1))
		case $s in 200|303) ;; *) bad=$((bad + 1)); echo "# probe $p answered $s" ;; esac
		grep -qi '^Content-Security-Policy:' "$T/probeh" || bare=$((bare + 1))
	done
done
wait "$slow"
out=$(cat "$T/slow.out")
echo "# slow clients: $out"
is "the slow client ran" "$(echo "$out" | grep -c '^opened ')" 1
opened=$(echo "$out" | sed -n 's/^opened \([0-9]*\).*/\1/p')
check "it held many connections at once ($(echo "$out" | sed -n 's/.*most_held \([0-9]*\).*/\1/p'))" test "${opened:-0}" -ge $((RATE * SECS / 2))
is "every probe got its page while they were held ($probes probes, slowest $worst ms)" "$bad" 0
is "... each with the security headers" "$bare" 0
is "nginx sent no 5xx to the slow clients" "$(echo "$out" | sed -n 's/.*answers_5xx \([0-9]*\).*/\1/p')" 0
short=$(grep -c 'worker_connections are not enough' "$VAR/log/nginx-error.log" 2>/dev/null)
is "nginx never ran out of connections" "${short:-0}" 0
echo "# $probes probes during the run, slowest $worst ms; nginx short of connections: ${short:-0} times"
