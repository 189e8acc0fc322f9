#!/bin/sh
# t253-invite-race.sh: four simultaneous accepts of one token yield exactly one active membership.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
DEMO=00000000-0000-0000-0000-000000000001
PENDING_USER=10000000-0000-0000-0000-000000000005
GLOBEX_OWNER=10000000-0000-0000-0000-000000000007
TOKEN=dev-invite-token-pending-example-com

# race PATH "JAR1 JAR2 JAR3 JAR4" FIELD=VALUE...: the four browsers POST at
# once, each with its own CSRF token; prints the sorted status codes.
race() {
	p=$1; jars=$2; shift 2
	for j in $jars; do csrf "$j" >"$T/race-$j.csrf"; done
	for j in $jars; do
		(
			set -- "$@" "csrf_token=$(cat "$T/race-$j.csrf")"
			cnt=$#
			for kv in "$@"; do set -- "$@" --data-urlencode "$kv"; done
			shift "$cnt"
			curl -sS -o "$T/race-$j.body" -w '%{http_code}' -X POST -b "$T/$j.jar" \
				"$@" "$BASE$p" >"$T/race-$j.status"
		) &
	done
	wait
	for j in $jars; do cat "$T/race-$j.status"; echo; done | sort | tr '\n' ' ' | sed 's/ $//'
}

# 1. The seeded invitee (no password yet), from four browsers at once.
for j in r1 r2 r3 r4; do get "$j" "/invite/accept?token=$TOKEN"; done
got=$(race /invite/accept "r1 r2 r3 r4" "token=$TOKEN" "full_name=Racer" "password=correct-horse-battery")
is "four simultaneous new-account accepts: one 303, three 410" "$got" "303 410 410 410"
is "exactly one active membership, token cleared, one account set up" \
	"$(sql "SELECT count(*) FILTER (WHERE status = 'active'), count(invitation_token),
	               (SELECT count(*) FROM users WHERE id = '$PENDING_USER' AND password_hash IS NOT NULL)
	          FROM team_members WHERE workspace_id = '$ACME' AND user_id = '$PENDING_USER'")" "1|0|1"
is "one audit row, one session, counter 5" \
	"$(sql "SELECT (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invitation_accepted'),
	               (SELECT count(*) FROM sessions WHERE user_id = '$PENDING_USER'),
	               (SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME')")" "1|1|5"
losers=0
for j in r1 r2 r3 r4; do
	if [ "$(cat "$T/race-$j.status")" = 410 ] && grep -q 'already been accepted' "$T/race-$j.body"; then
		losers=$((losers + 1))
	fi
done
is "the three others are told the invitation was already accepted" "$losers" 3

# 2. An existing account, signed in, pressing Accept four times at once.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email,
       invitation_token, invitation_expires_at, invited_by, created_by)
     VALUES ('$ACME', '$GLOBEX_OWNER', 'member', 'pending', 'owner@globex.example',
       encode(sha256(convert_to('tok-race-existing', 'UTF8')), 'hex'),
       now() + interval '7 days', '$DEMO', '$DEMO')" >/dev/null
login g owner@globex.example
for j in g2 g3 g4; do cp "$T/g.jar" "$T/$j.jar"; done
got=$(race /invite/accept "g g2 g3 g4" "token=tok-race-existing")
is "four simultaneous accepts by the signed-in invitee: one 303, three 410" "$got" "303 410 410 410"
is "exactly one active membership and one more audit row" \
	"$(sql "SELECT count(*) FILTER (WHERE status = 'active'),
	               (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invitation_accepted')
	          FROM team_members WHERE workspace_id = '$ACME' AND user_id = '$GLOBEX_OWNER'")" "1|2"
is "the counter is 6" \
	"$(sql "SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME'")" 6
check "no request ended in a server error" sh -c "! grep -q '^5' '$T'/race-*.status"
