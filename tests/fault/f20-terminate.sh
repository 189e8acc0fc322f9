#!/bin/sh
# f20-terminate.sh: backends terminated (pg_terminate_backend) again and again
# under a steady mix of GETs and POSTs. Every acknowledged write is stored
# with its audit row, every refused one left nothing, no answer is other than
# the page, a 303 or the 503 page, and the app answers normally afterwards.
. "$ROOT/tests/fault/lib.sh"

K=12                 # POSTs per writer
sql "UPDATE billing_config SET team_members_limit = 1000 WHERE workspace_id = '$ACME'" >/dev/null
login w1 demo@example.com
login w2 demo@example.com
login r demo@example.com

# token_of JAR: its CSRF token, asked again while the 503 page answers (the
# fault is in the database, not in the form). Like csrf(), but each jar reads
# its own page: these run at the same time.
token_of() {
	_t=; _k=0
	while [ -z "$_t" ] && [ $_k -lt 50 ]; do
		curl -sSL -o "$T/$1.page" -b "$T/$1.jar" -c "$T/$1.jar" "$BASE/login" >/dev/null 2>&1
		_t=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/$1.page" | head -1)
		_k=$((_k + 1)); [ -n "$_t" ] || sleep 0.1
	done
	echo "$_t"
}

writer() { # JAR: invitations term-JAR-j@example.com, "email status" lines
	tok=$(token_of "$1")
	for j in $(seq $K); do
		post_raw "$1" "$TEAM/invite" "csrf_token=$tok" "email=term-$1-$j@example.com" role=viewer
		echo "term-$1-$j@example.com $STATUS" >>"$T/$1.log"
	done
}
signer() { # sign-ins of the viewer, "status hash" lines
	for j in $(seq 8); do
		rm -f "$T/s$j.jar"
		tok=$(token_of "s$j")
		post_raw "s$j" /login "csrf_token=$tok" email=viewer@example.com password=demo-password
		echo "$STATUS $(session_of "s$j")" >>"$T/signin.log"
	done
}
reader() {
	while [ ! -e "$T/stop" ]; do
		for p in "$TEAM" /w/acme/settings/billing /w/acme/settings/integrations /login; do
			curl -s -o /dev/null -w '%{http_code}\n' -b "$T/r.jar" "$BASE$p" >>"$T/reads.log"
		done
	done
}
killer() {
	while [ ! -e "$T/stop" ]; do
		sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		     WHERE usename = 'settings_app'" >>"$T/kills.log" 2>/dev/null
		sleep 0.3
	done
}

reader & rp=$!
killer & kp=$!
writer w1 & p1=$!
writer w2 & p2=$!
signer & p3=$!
wait $p1 $p2 $p3
touch "$T/stop"
wait $rp $kp

kills=$(awk '{ s += $1 } END { print s + 0 }' "$T/kills.log")
rounds=$(wc -l <"$T/kills.log")
check "backends were terminated during the run" test "$kills" -gt 0

acked=0; refused=0; bad=0; other=0
while read -r email st; do
	rows=$(sql "SELECT (SELECT count(*) FROM team_members WHERE invitation_email = '$email')
	          + (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes::text LIKE '%$email%')")
	case $st in
	303) acked=$((acked + 1)); [ "$rows" = 2 ] || bad=$((bad + 1)) ;;
	503) refused=$((refused + 1)); [ "$rows" = 0 ] || bad=$((bad + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
done <<EOF2
$(cat "$T/w1.log" "$T/w2.log")
EOF2
is "invitations: every answer is a 303 or the 503 page" "$other" 0
is "invitations: acknowledged ones stored with their audit rows, refused ones left nothing ($acked acknowledged, $refused refused)" "$bad" 0
check "invitations: most were acknowledged" test "$acked" -ge $((K / 2))

s_acked=0; s_refused=0; s_bad=0
while read -r st h; do
	n=0; [ -n "$h" ] && n=$(sql "SELECT count(*) FROM sessions WHERE token_hash = '$h'")
	case $st in
	303) s_acked=$((s_acked + 1)); [ "$n" = 1 ] || s_bad=$((s_bad + 1)) ;;
	503) s_refused=$((s_refused + 1)); [ "$n" = 0 ] || s_bad=$((s_bad + 1)) ;;
	*) s_bad=$((s_bad + 1)) ;;
	esac
done <<EOF2
$(cat "$T/signin.log")
EOF2
is "sign-ins: each acknowledged one has its session, each refused one set none ($s_acked acknowledged, $s_refused refused)" "$s_bad" 0

reads=$(wc -l <"$T/reads.log")
echo "# statuses: $(cat "$T"/w1.log "$T"/w2.log "$T"/reads.log | awk '{ print $NF }' | sort | uniq -c | tr -s " \n" " ")"
bad_reads=$(grep -cvE '^(200|303|503)$' "$T/reads.log")
is "reads: every answer is the page or the 503 page ($reads GETs)" "$bad_reads" 0
r503=$(grep -c '^503$' "$T/reads.log")

# Afterwards, everything answers as usual.
get r "$TEAM"
is "afterwards the team page answers 200" "$STATUS" 200
post w1 "$TEAM/invite" email=after-term@example.com role=viewer
is "afterwards an invitation is acknowledged" "$STATUS" 303
is "... and stored" "$(sql "SELECT count(*) FROM team_members WHERE invitation_email = 'after-term@example.com'")" 1
echo "# $kills backends terminated in $rounds rounds; invitations $acked acknowledged, $refused refused; sign-ins $s_acked acknowledged, $s_refused refused; $reads GETs, $r503 answered 503"
