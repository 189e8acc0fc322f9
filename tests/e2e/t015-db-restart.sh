#!/bin/sh
# t015-db-restart.sh: after PostgreSQL restarts under idle workers, every write
# that is acknowledged (303) is in the database with its audit row.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
M_MEMBER=10000000-0000-0000-0000-000000000003
TEAM=/w/acme/settings/team

restart_db() {
	as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w restart -o "-p $PGPORT" \
		-l "$VAR/log/postgresql.log" >/dev/null 2>&1
}

login owner demo@example.com
login admin admin@example.com
get owner "$TEAM"
is "the team page answers before the restart" "$STATUS" 200

# Invitations: every worker's first request after the restart meets a dead connection.
restart_db
acked=0
for i in 1 2 3 4; do
	post owner "$TEAM/invite" "email=restart$i@example.com" role=member
	case $STATUS in 303) acked=$((acked + 1)) ;; 503) ;; *) notok "invite $i answered $STATUS" ;; esac
done
is "at least one invitation was acknowledged" "$([ "$acked" -ge 1 ] && echo yes)" yes
is "every acknowledged invitation exists" \
	"$(sql "SELECT count(*) FROM team_members WHERE invitation_email LIKE 'restart%' AND status = 'pending'")" "$acked"
is "... each with its audit row" \
	"$(sql "SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes::text LIKE '%restart%'")" "$acked"

# A deactivation after a restart: 303 means the member is inactive.
restart_db
post admin "$TEAM/$M_MEMBER/deactivate" confirm=1
st=$STATUS
[ "$st" = 503 ] && post admin "$TEAM/$M_MEMBER/deactivate" confirm=1 && st=$STATUS
is "the deactivation is acknowledged (once retried after a 503)" "$st" 303
is "... and the member is inactive" "$(sql "SELECT status FROM team_members WHERE id = '$M_MEMBER'")" inactive

# A sign-in after a restart: a cookie is only ever set for a stored session.
restart_db
for i in 1 2 3; do
	rm -f "$T/s$i.jar"
	login "s$i" viewer@example.com
	if [ "$STATUS" = 303 ]; then
		get "s$i" "$TEAM"
		is "sign-in $i acknowledged: its session works" "$STATUS" 200
	else
		is "sign-in $i not acknowledged: a 503 page" "$STATUS" 503
		check "... that sets no session cookie" sh -c "! grep -qi '^set-cookie: session=[^;]' '$T/headers'"
	fi
done

# A sign-out after a restart: 303 means the session is gone.
restart_db
login out member@example.com
restart_db
post out /logout
if [ "$STATUS" = 303 ]; then
	is "an acknowledged sign-out ended the session" \
		"$(sql "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'member@example.com'")" 0
else
	is "an unacknowledged sign-out is a 503 page" "$STATUS" 503
fi
