#!/bin/sh
# f70-worker-memory.sh: a worker's memory comes back down after a large page.
# The largest answer a person can make: the account page at its ceiling of 100
# sessions, each with a User-Agent of nginx's 8 KB header limit made of
# characters that HTML escaping multiplies ("&quot;" for '"'): about 4 MB of
# HTML. The worker that served it (found by its peak RSS, VmHWM, in /proc)
# be well below its peak right after it, and back within a small bound of its
# resident size before once the small pages that follow have been served.
. "$ROOT/tests/fault/lib.sh"

USER_ID=00000000-0000-0000-0000-000000000001      # demo@example.com
BOUND_KB=1024          # resident size after: at most this much above before

# kb PID FIELD: a /proc/PID/status figure (VmRSS, VmHWM) in kB.
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
workers() { pgrep -P "$(cat "$VAR/run/account.pid")"; }

login owner demo@example.com
# Warm every worker up with the small page (each has its usual buffers).
for i in 1 2 3 4 5 6; do get owner /account; done
is "the account page answers" "$STATUS" 200
small=$(wc -c <"$T/body")

sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent, ip)
     SELECT encode(sha256(convert_to('f70-' || n, 'UTF8')), 'hex'), '$USER_ID', 'csrf-f70-' || n,
            now() + interval '1 hour', repeat('\"<&>', 2000), '192.0.2.1'
       FROM generate_series(1, 99) n" >/dev/null
# shellcheck disable=SC2046  # one pid a word
set -- $(workers)
check "the account page has two workers to watch (${*})" test $# -ge 1
for p in "$@"; do
	kb "$p" VmRSS >"$T/rss0.$p"; kb "$p" VmHWM >"$T/hwm0.$p"
done

get owner /account
is "the large account page answers 200" "$STATUS" 200
large=$(wc -c <"$T/body")
check "... and it is large ($large bytes, the usual page $small)" test "$large" -gt 3000000

served=
for p in "$@"; do
	[ "$(kb "$p" VmHWM)" -gt $(($(cat "$T/hwm0.$p") + 2048)) ] && served=$p
done
check "the worker that served it is found by its peak RSS" test -n "$served"
served=${served:-$1}
rss0=$(cat "$T/rss0.$served")
rss1=$(kb "$served" VmRSS); hwm1=$(kb "$served" VmHWM)
echo "# worker $served: RSS $rss0 kB before, peak $hwm1 kB during the $large-byte page, $rss1 kB after it"

# The sessions go; the page is small again; each worker serves it.
sql "DELETE FROM sessions WHERE csrf_token LIKE 'csrf-f70-%'" >/dev/null
# Until the worker has served two of them (it wakes up for each request it takes).
cs0=$(kb "$served" voluntary_ctxt_switches); taken=0; i=0
while [ $i -lt 40 ]; do
	get owner /account; i=$((i + 1))
	cs=$(kb "$served" voluntary_ctxt_switches)
	[ "$cs" != "$cs0" ] && taken=$((taken + 1)) && cs0=$cs
	[ $taken -ge 2 ] && break
done
check "the worker served small pages after it ($taken of $i)" test $taken -ge 2
is "the small page again" "$STATUS|$(wc -c <"$T/body" | awk -v s="$small" '{ print ($1 < 2 * s) }')" "200|1"
rss2=$(kb "$served" VmRSS)
echo "# worker $served: RSS $rss2 kB after the small pages that followed"
# Right after it the answer buffer is gone; the request's arena goes when the
# next request starts (and is given back after that one).
check "right after the large page, its RSS is already down by more than half ($rss0 -> peak $hwm1 -> $rss1 kB)" \
	test $((rss1 - rss0)) -lt $(((hwm1 - rss0) / 2))
check "after the small pages, its RSS is within $BOUND_KB kB of before ($rss0 -> $rss2 kB)" \
	test "$rss2" -le $((rss0 + BOUND_KB))
check "the worker is the same process all along (not replaced)" pid_alive "$served"
