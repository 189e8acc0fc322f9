#!/bin/sh
# t600-account-page.sh: /account: who may see it, what it shows, the name and where it shows.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
U_DEMO=00000000-0000-0000-0000-000000000001
U_MEMBER=10000000-0000-0000-0000-000000000003
text() { w3m -dump -T text/html "$T/body"; }

# --- Access ---------------------------------------------------------------
get anon /account
is "without a session, /account sends you to sign in" "$STATUS" 303
is "... and back to /account afterwards" "$(header Location)" "/login?next=%2Faccount"
post_raw anon /account/name csrf_token=x full_name=Nobody
is "a POST without a session changes nothing: 303 to sign in" "$STATUS" 303

login member member@example.com
get member /w/acme/settings/team
check "the shell's \"Signed in as\" links to /account" body_has 'Signed in as <a href="/account"'
get member /account
is "any signed-in person sees /account (a member)" "$STATUS" 200
is "... not cached by the browser" "$(header Cache-Control)" "no-store"
check "... as valid HTML" tidy_ok
check "... showing the email" body_has "member@example.com"
check "... the name in its field" body_has 'value="Member User"'
check "... the password form explains the 72-byte limit in characters" sh -c "w3m -dump -T text/html '$T/body' | tr '\n' ' ' | grep -q 'At most 72 letters, digits or punctuation without accents'"
check "... lists the workspace with the role and links" sh -c "grep -q 'href=\"/w/acme/settings/team\"><strong>Acme Corp</strong></a> — member' '$T/body'"
check "... a member gets no billing link" sh -c "! grep -q '/w/acme/settings/billing' '$T/body'"
check "... the shell marks the account link as the current page" body_has 'href="/account" title="Your account" aria-current="page"'
check "... no workspace tabs (the account belongs to no workspace)" sh -c "! grep -q 'class=\"tabs\"' '$T/body'"

login viewer viewer@example.com
get viewer /account
is "a viewer sees /account too" "$STATUS" 200

# Someone in two workspaces sees both, each with its role and links.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at) VALUES ('$GLOBEX', '$U_DEMO', 'admin', 'active', now())" >/dev/null
login owner demo@example.com
get owner /account
check "two workspaces: Acme as owner (with billing)" sh -c "grep -q 'Acme Corp</strong></a> — owner' '$T/body' && grep -q '/w/acme/settings/billing' '$T/body'"
check "... and Globex as admin (without billing)" sh -c "grep -q 'Globex</strong></a> — admin' '$T/body' && ! grep -q '/w/globex/settings/billing' '$T/body'"

# Someone in no workspace still has an account page.
sql "INSERT INTO users (email, password_hash, full_name, is_verified)
     SELECT 'loner@example.com', password_hash, 'Lone User', true FROM users WHERE id = '$U_DEMO'" >/dev/null
login lone loner@example.com
get lone /account
is "someone in no workspace: /account answers 200" "$STATUS" 200
check "... and says they belong to none" body_has "not an active member of any workspace"

# --- The name ---------------------------------------------------------------
name_error() { sed -n 's/.*id="full_name-error">\([^<]*\)<.*/\1/p' "$T/body"; }
post member /account/name "full_name="
is "an empty name: 422" "$STATUS" 422
is "... with the message by the field" "$(name_error)" "Enter your name."
check "... the field marked invalid and tied to the message" sh -c "grep -q 'aria-describedby=\"full_name-error full_name-hint\" aria-invalid=\"true\"' '$T/body'"
post member /account/name "full_name=     "
is "only spaces: 422" "$STATUS" 422
post member /account/name "full_name=Tab	Name"
is "a tab (a control character): 422" "$STATUS" 422
check "... saying so" sh -c "grep -q 'control characters' '$T/body'"
check "... the input kept" body_has 'value="Tab	Name"'
post member /account/name "full_name=Line
Break"
is "a line break: 422" "$STATUS" 422
long=$(printf '%0101d' 0)
post member /account/name "full_name=$long"
is "101 characters: 422" "$STATUS" 422
check "... saying how many" body_has "This name has 101 characters: use at most 100."
accented=$(python3 -c 'print("é" * 100, end="")')
post member /account/name "full_name=$accented"
is "100 accented characters (200 bytes) are fine: 303" "$STATUS" 303
post_raw member /account/name "full_name=No Token"
is "without the CSRF token: 403" "$STATUS" 403
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/member.jar" -H "Origin: https://evil.example" \
	--data-urlencode "csrf_token=$(csrf member)" --data-urlencode "full_name=x" "$BASE/account/name")
is "from another site: 403" "$STATUS" 403
is "nothing changed by the refused requests" "$(sql "SELECT full_name = repeat('é', 100) FROM users WHERE id = '$U_MEMBER'")" "t"
is "no audit row for the refused requests (one for the accepted rename)" \
	"$(sql "SELECT count(*) FROM account_audit_logs WHERE user_id = '$U_MEMBER'")" "1"

# Rename: the name shows at once everywhere, on every worker.
login admin admin@example.com
for i in 1 2 3 4 5 6; do get admin /w/acme/settings/team; done
check "the admin's team page shows the member's old name" body_has "éééé"
for i in 1 2 3 4 5 6; do get member /w/acme/settings/team; done
post member /account/name "full_name=  Renamed <Member> "
is "a new name: 303" "$STATUS" 303
is "... back to /account" "$(header Location)" "/account"
get member /account
check "... which says so once" sh -c "grep -q 'class=\"notice\"' '$T/body' && grep -q 'Your name is now Renamed &lt;Member&gt;' '$T/body'"
check "... trimmed and escaped in the field" body_has 'value="Renamed &lt;Member&gt;"'
check "... and in the shell" body_has "<strong>Renamed &lt;Member&gt;</strong>"
get member /account
check "the notice does not come back" sh -c "! grep -q 'class=\"notice\"' '$T/body'"
is "stored trimmed" "$(sql "SELECT full_name FROM users WHERE id = '$U_MEMBER'")" "Renamed <Member>"
every_view() { # every_view JAR URL TEXT: six views (every worker answers), each has TEXT
	for _i in 1 2 3 4 5 6; do get "$1" "$2"; grep -qF -- "$3" "$T/body" || return 1; done
}
check "the member's own team page shows the new name in the shell at once" \
	every_view member /w/acme/settings/team "<strong>Renamed &lt;Member&gt;</strong>"
check "another person's team page lists the new name at once" \
	every_view admin /w/acme/settings/team "Renamed &lt;Member&gt;"
check "... and no longer the old one" sh -c "! grep -q 'éééé' '$T/body'"
# In every workspace of the person: put the member in Globex too.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at) VALUES ('$GLOBEX', '$U_MEMBER', 'viewer', 'active', now())" >/dev/null
login gowner owner@globex.example
for i in 1 2 3 4 5 6; do get gowner /w/globex/settings/team; done
post member /account/name "full_name=Everywhere Member"
check "Globex's team page lists the new name at once too" \
	every_view gowner /w/globex/settings/team "Everywhere Member"
check "... as does Acme's" every_view admin /w/acme/settings/team "Everywhere Member"

is "audit: one row per rename, with the old and new names, in the person's own stream" \
	"$(sql "SELECT changes->>'old_name' || ' -> ' || (changes->>'new_name') FROM account_audit_logs WHERE user_id = '$U_MEMBER' AND action = 'account.name_changed' ORDER BY created_at DESC LIMIT 1")" \
	"Renamed <Member> -> Everywhere Member"
is "... with the address and browser" \
	"$(sql "SELECT host(ip_address), user_agent LIKE 'curl/%' FROM account_audit_logs WHERE user_id = '$U_MEMBER' ORDER BY created_at DESC LIMIT 1")" "127.0.0.1|t"
post member /account/name "full_name=Everywhere Member"
is "the same name again: 303" "$STATUS" 303
is "... and no audit row for a non-change" \
	"$(sql "SELECT count(*) FROM account_audit_logs WHERE user_id = '$U_MEMBER' AND action = 'account.name_changed'")" "3"
get member /account
check "the page lists the recent changes" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Name changed'"

# --- Hostile input ------------------------------------------------------------
post member /account/name "full_name=<script>alert(1)</script>"
is "a name with markup is just text: 303" "$STATUS" 303
get admin /w/acme/settings/team
check "... shown escaped on the team page" sh -c "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/body' && ! grep -q '<script>alert' '$T/body'"
get member /account
check "... and on /account" sh -c "! grep -q '<script>alert' '$T/body'"
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/member.jar" --data-binary "csrf_token=$(csrf member)&full_name=%ff%fe" "$BASE/account/name")
is "invalid UTF-8: 400, not a crash" "$STATUS" 400
big=$(head -c 70000 /dev/zero | tr '\0' a)
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/member.jar" --data-binary "csrf_token=x&full_name=$big" "$BASE/account/name")
is "a body over 64 KiB: 413" "$STATUS" 413
get member /account/nothing-here
is "an unknown /account address: 404" "$STATUS" 404
req member DELETE /account
is "another method: 405" "$STATUS" 405
