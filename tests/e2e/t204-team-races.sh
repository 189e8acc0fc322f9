#!/bin/sh
# t204-team-races.sh: simultaneous requests: two owners stepping down, invitations racing for seats and emails.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
M_OWNER=10000000-0000-0000-0000-000000000001
M_ADMIN=10000000-0000-0000-0000-000000000002
M_MEMBER=10000000-0000-0000-0000-000000000003
M_VIEWER=10000000-0000-0000-0000-000000000004
TEAM=/w/acme/settings/team

# race "JAR:PATH JAR:PATH ..." FIELD=VALUE...: every browser POSTs its path at
# the same moment (each with its own CSRF token); prints the sorted statuses.
race() {
	specs=$1; shift
	i=0
	for s in $specs; do i=$((i + 1)); csrf "${s%%:*}" >"$T/race-$i.csrf"; done
	i=0
	for s in $specs; do
		i=$((i + 1))
		(
			set -- "$@" "csrf_token=$(cat "$T/race-$i.csrf")"
			cnt=$#
			for kv in "$@"; do set -- "$@" --data-urlencode "$kv"; done
			shift "$cnt"
			curl -sS -o "$T/race-$i.body" -w '%{http_code}' -X POST -b "$T/${s%%:*}.jar" \
				"$@" "$BASE${s#*:}" >"$T/race-$i.status"
		) &
	done
	wait
	i=0
	for s in $specs; do i=$((i + 1)); cat "$T/race-$i.status"; echo; done | sort | tr '\n' ' ' | sed 's/ $//'
}
owners() {
	sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND role = 'owner'
	       AND status = 'active' AND deleted_at IS NULL"
}
counter_ok() {
	[ "$(sql "SELECT (SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME')
	           = (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME'
	              AND status = 'active' AND deleted_at IS NULL)")" = t ]
}
two_owners() {
	sql "UPDATE team_members SET role = 'owner', status = 'active' WHERE id IN ('$M_OWNER', '$M_ADMIN')" >/dev/null
}

log0=$(wc -l <"$VAR/log/team.log")
login o1 demo@example.com
login o2 admin@example.com
get o1 "$TEAM"
get o2 "$TEAM"

# --- Two owners step down at the same moment: one must stay ----------------
for round in 1 2 3; do
	two_owners
	got=$(race "o1:$TEAM/$M_OWNER/role o2:$TEAM/$M_ADMIN/role" "role=admin" "confirm=1")
	is "round $round: two owners demoting themselves at once: one 303, one 409" "$got" "303 409"
	is "round $round: exactly one active owner is left" "$(owners)" 1
done
two_owners
got=$(race "o1:$TEAM/$M_OWNER/deactivate o2:$TEAM/$M_ADMIN/deactivate" "confirm=1")
is "two owners deactivating themselves at once: one 303, one 409" "$got" "303 409"
is "... one active owner left" "$(owners)" 1
two_owners
got=$(race "o1:$TEAM/$M_OWNER/remove o2:$TEAM/$M_ADMIN/remove" "confirm=1")
is "two owners removing themselves at once: one 303, one 409" "$got" "303 409"
is "... one active owner left" "$(owners)" 1
sql "UPDATE team_members SET deleted_at = NULL, deleted_by = NULL WHERE id IN ('$M_OWNER', '$M_ADMIN')" >/dev/null
two_owners
login o1 demo@example.com
login o2 admin@example.com
get o1 "$TEAM"
get o2 "$TEAM"
got=$(race "o1:$TEAM/$M_ADMIN/role o2:$TEAM/$M_OWNER/role" "role=member" "confirm=1")
is "two owners demoting each other at once: one 303; the other, no longer allowed, 403" "$got" "303 403"
is "... one active owner left" "$(owners)" 1
check "the counter matches after the owner races" counter_ok

# --- The loser of a race acts with the role it has after the winner --------
two_owners
sql "UPDATE team_members SET role = 'member' WHERE id = '$M_MEMBER'" >/dev/null
got=$(race "o1:$TEAM/$M_ADMIN/role o2:$TEAM/$M_MEMBER/role" "role=viewer" "confirm=1")
case $got in
"303 303")
	# The demotion of o2 came second: then o2 acted while still an owner.
	is "an owner demoting another who is demoting someone: the second one is checked again" \
		"$(sql "SELECT role FROM team_members WHERE id = '$M_ADMIN'")" viewer ;;
*)
	is "an owner demoting another who is demoting someone: the demoted one is refused (403)" "$got" "303 403" ;;
esac

# --- Seats: four invitations at once for the last seat ----------------------
sql "UPDATE team_members SET role = 'owner' WHERE id = '$M_OWNER';
     UPDATE team_members SET role = 'admin' WHERE id = '$M_ADMIN'" >/dev/null
login o3 demo@example.com
login o4 admin@example.com
used=$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")
sql "UPDATE billing_config SET team_members_limit = $((used + 1)) WHERE workspace_id = '$ACME'" >/dev/null
for j in o1 o2 o3 o4; do get "$j" "$TEAM"; done
for j in o1 o2 o3 o4; do csrf "$j" >"$T/c-$j"; done
for j in o1 o2 o3 o4; do
	(
		curl -sS -o /dev/null -w '%{http_code}' -X POST -b "$T/$j.jar" \
			--data-urlencode "csrf_token=$(cat "$T/c-$j")" --data-urlencode "email=seat-$j@example.com" \
			--data-urlencode "role=viewer" "$BASE$TEAM/invite" >"$T/seat-$j.status"
	) &
done
wait
got=$(for j in o1 o2 o3 o4; do cat "$T/seat-$j.status"; echo; done | sort | tr '\n' ' ' | sed 's/ $//')
is "four invitations for the last seat at once: one 303, three 409" "$got" "303 409 409 409"
is "... active + pending is exactly the limit" \
	"$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")" "$((used + 1))"
is "... one audit row" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes->>'email' LIKE 'seat-%'")" 1

# --- The same new email from four browsers at once -------------------------
sql "UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
got=$(race "o1:$TEAM/invite o2:$TEAM/invite o3:$TEAM/invite o4:$TEAM/invite" "email=Same.Person@example.com" "role=member")
is "four invitations of one new email at once: one 303, three 409" "$got" "303 409 409 409"
is "... one user row, one pending invitation" \
	"$(sql "SELECT (SELECT count(*) FROM users WHERE lower(email) = 'same.person@example.com'),
	               (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND invitation_email = 'same.person@example.com')")" "1|1"

# --- Different emails at once: all go through, none lost -------------------
for j in o1 o2 o3 o4; do
	csrf "$j" >"$T/d-$j"
done
for j in o1 o2 o3 o4; do
	(
		curl -sS -o /dev/null -w '%{http_code}' -X POST -b "$T/$j.jar" \
			--data-urlencode "csrf_token=$(cat "$T/d-$j")" --data-urlencode "email=many-$j@example.com" \
			--data-urlencode "role=viewer" "$BASE$TEAM/invite" >"$T/many-$j.status"
	) &
done
wait
got=$(for j in o1 o2 o3 o4; do cat "$T/many-$j.status"; echo; done | sort | tr '\n' ' ' | sed 's/ $//')
is "four invitations of different emails at once: all 303" "$got" "303 303 303 303"
is "... four pending rows" "$(sql "SELECT count(*) FROM team_members WHERE invitation_email LIKE 'many-%'")" 4

# --- Two admins removing one member at once ---------------------------------
got=$(race "o1:$TEAM/$M_VIEWER/remove o2:$TEAM/$M_VIEWER/remove" "confirm=1")
is "two removals of one member at once: one 303, one 404" "$got" "303 404"
is "... one removal audit row" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'team_member.removed' AND resource_id = '$M_VIEWER'")" 1
check "the counter equals the real count after every race" counter_ok
is "no request failed with a server error (no deadlock, no serialization failure)" \
	"$(tail -n +"$((log0 + 1))" "$VAR/log/team.log" | grep -c ' 50[0-9] [0-9]*ms$')" 0
