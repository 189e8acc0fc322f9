#!/bin/sh
# t205-team-hostile.sh: hostile input to the team page: forged ids and paths, repeated fields, header injection, markup.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
M_ADMIN=10000000-0000-0000-0000-000000000002
M_MEMBER=10000000-0000-0000-0000-000000000003
M_VIEWER=10000000-0000-0000-0000-000000000004
TEAM=/w/acme/settings/team

state() {
	sql "SELECT md5(string_agg(concat_ws('|', t.id, t.user_id, t.role, t.status, t.invitation_email,
	       t.invitation_token, t.invitation_expires_at, t.deleted_at), ',' ORDER BY t.id))
	       || (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM audit_logs) FROM team_members t"
}
mails() { ls "$VAR/mail" 2>/dev/null | wc -l; }

login owner demo@example.com
login admin admin@example.com
get owner "$TEAM"
get admin "$TEAM"
s0=$(state)
m0=$(mails)

# --- Forged and malformed member ids and paths -------------------------------
for id in "abc" "1" "$M_MEMBER-x" "${M_MEMBER}0" "%27%3B%20DROP%20TABLE%20team_members%3B--" \
	"00000000-0000-0000-0000-00000000000g" "%7B$M_MEMBER%7D" "$(printf '%0300d' 0)"; do
	post owner "$TEAM/$id/deactivate" "confirm=1"
	is "forged member id '$(echo "$id" | cut -c1-40)': 404" "$STATUS" 404
done
post owner "$TEAM/$M_MEMBER%2Fdeactivate/remove" "confirm=1"
check "an encoded slash in the id does not reach a member" sh -c "[ '$STATUS' = 404 ] || [ '$STATUS' = 400 ]"
post owner "$TEAM/%00/remove" "confirm=1"
is "a NUL in the path: 400" "$STATUS" 400
post owner "$TEAM/$M_MEMBER/deactivate%00" "confirm=1"
is "a NUL after the action: 400" "$STATUS" 400
post owner "$TEAM/$M_MEMBER/DEACTIVATE" "confirm=1"
is "actions are exact (DEACTIVATE is unknown): 404" "$STATUS" 404
post owner "$TEAM/$M_MEMBER/%3Cscript%3E" "confirm=1"
is "an action with markup: 404" "$STATUS" 404
check "... not echoed as markup" sh -c "! grep -q '<script>' '$T/body'"
post owner "$TEAM/$M_MEMBER" "confirm=1"
is "POST to a member without an action: 404 or 405" "$(case $STATUS in 404|405) echo ok ;; *) echo "$STATUS" ;; esac)" ok
post owner "$TEAM" "email=x@example.com"
is "POST to the team page itself: 405" "$STATUS" 405
req owner PUT "$TEAM/$M_MEMBER/remove"
is "PUT on an action: 405" "$STATUS" 405
get owner "$TEAM/invite"
is "GET on the invite action: 405" "$STATUS" 405
is "none of that changed anything" "$(state)" "$s0"

# --- Repeated and unexpected fields ------------------------------------------
post admin "$TEAM/$M_VIEWER/role" "role=member" "role=owner"
is "a repeated role field: the first value counts" "$STATUS" 303
is "... nobody became an owner through the second" "$(sql "SELECT role FROM team_members WHERE id = '$M_VIEWER'")" member
post admin "$TEAM/$M_VIEWER/role" "role=viewer" "role=<b>x</b>"
is "a repeated field with one invalid value: 422" "$STATUS" 422
post owner "$TEAM/$M_MEMBER/deactivate" "confirm=yes"
is "confirm=yes is not a confirmation: the confirmation page (200)" "$STATUS" 200
post owner "$TEAM/$M_MEMBER/deactivate" "confirm=1" "confirm=0"
is "confirm=1 followed by a bad value: not confirmed either" "$STATUS" 200
is "... the member is still active" "$(sql "SELECT status FROM team_members WHERE id = '$M_MEMBER'")" active
post owner "$TEAM/invite" "email=ok1@example.com" "role=member" "workspace_id=00000000-0000-0000-0000-000000000002" "invited_by=$M_ADMIN"
is "unexpected fields are ignored" "$STATUS" 303
is "... the invitation is in Acme, invited by the owner" \
	"$(sql "SELECT workspace_id, invited_by FROM team_members WHERE invitation_email = 'ok1@example.com'")" \
	"$ACME|00000000-0000-0000-0000-000000000001"
s1=$(state)

# --- Email header injection and odd addresses ---------------------------------
post owner "$TEAM/invite" "email=victim@example.com
Bcc: everyone@example.com" "role=member"
is "an email with a line break: 422" "$STATUS" 422
post owner "$TEAM/invite" "email=victim@example.com%0d%0aBcc:x@example.com" "role=member"
is "an email with an encoded CRLF: 422" "$STATUS" 422
post owner "$TEAM/invite" "email=\"quoted\"@example.com" "role=member"
is "a quoted local part: 422" "$STATUS" 422
post owner "$TEAM/invite" "email=jöhn@example.com" "role=member"
is "a non-ASCII address: 422" "$STATUS" 422
post owner "$TEAM/invite" "email=a@b" "role=member"
is "an address without a domain dot: 422" "$STATUS" 422
post owner "$TEAM/invite" "email=$(printf 'a%.0s' $(seq 1 65))@example.com" "role=member"
is "a local part over 64 characters: 422" "$STATUS" 422
is "no refused address produced a mail or a row" "$(state)|$(mails)" "$s1|$((m0 + 1))"
post owner "$TEAM/invite" "email=O'Brien+team@Example.com" "role=viewer"
is "an address with ' and + is valid" "$STATUS" 303
get owner "$TEAM"
check "... shown escaped" body_has "o&#39;brien+team@example.com"
check "... and the page stays valid HTML" tidy_ok
mail=$(grep -l "^To: o'brien+team@example.com\$" "$VAR"/mail/*.eml | head -1)
check "... the email went to exactly that address" test -n "$mail"
check "... with no extra header lines" sh -c "[ \$(sed '/^\$/q' '$mail' | grep -c '^Bcc:') -eq 0 ]"

# --- Markup in stored names shows escaped on every page ----------------------
sql "UPDATE workspaces SET name = '<img src=x onerror=alert(1)> & Co' WHERE id = '$ACME';
     UPDATE users SET full_name = '\"><script>alert(2)</script>' WHERE email = 'member@example.com'" >/dev/null
get owner "$TEAM"
check "the team page escapes a hostile workspace name" sh -c "grep -q '&lt;img src=x onerror=alert(1)&gt; &amp; Co' '$T/body' && ! grep -q '<img src=x' '$T/body'"
check "... and a hostile person's name" sh -c "grep -q '&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;' '$T/body' && ! grep -q '<script>' '$T/body'"
check "... and stays valid HTML" tidy_ok
get owner "$TEAM/$M_MEMBER/remove"
is "the confirmation page for that person answers 200" "$STATUS" 200
check "... escaping both names" sh -c "grep -q '&lt;script&gt;alert(2)' '$T/body' && grep -q '&lt;img src=x' '$T/body' && ! grep -q '<script>' '$T/body' && ! grep -q '<img src=x' '$T/body'"
check "... valid HTML" tidy_ok
post owner "$TEAM/$M_MEMBER/deactivate" "confirm=1"
get owner "$TEAM"
check "the notice about them is escaped too" sh -c "grep -q '&lt;script&gt;alert(2)&lt;/script&gt; has been deactivated.' '$T/body' && ! grep -q '<script>' '$T/body'"
post owner "$TEAM/invite" "email=hostile-ws@example.com" "role=viewer"
mail=$(grep -l '^To: hostile-ws@example.com$' "$VAR"/mail/*.eml | head -1)
check "an invitation email from a workspace with a hostile name keeps its headers intact" \
	sh -c "sed '/^\$/q' '$mail' | grep -q '^Subject: =?UTF-8?B?' && [ \$(sed '/^\$/q' '$mail' | grep -vc '^[A-Za-z-]*: \|^ \|^\$') -eq 0 ]"

# --- Big bodies -------------------------------------------------------------
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/owner.jar" --data-binary "@$T/big" \
	-H 'Content-Type: application/x-www-form-urlencoded' "$BASE$TEAM/invite")
is "a body over 64 KiB: 413" "$STATUS" 413
