#!/bin/sh
# t500-general-page.sh: the General page by role: facts (the plan by its name, the date in the one style), rename (owner, admin), hostile names, 404 across workspaces.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/general
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'"; }
created=$(sql "SELECT to_char(created_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') FROM workspaces WHERE id = '$ACME'")

get anon $P
is "signed out: 303 to sign in" "$STATUS" 303
is "... with next=" "$(header Location)" "/login?next=%2Fw%2Facme%2Fsettings%2Fgeneral"

for role in demo admin member viewer; do
	login "$role" "$role@example.com"
	get "$role" $P
	is "$role: GET General is 200" "$STATUS" 200
	check "$role: the name" body_has '<dd>Acme Corp</dd>'
	check "$role: the slug" body_has '<code>acme</code>'
	check "$role: the plan by its name" body_has '<dt>Plan</dt><dd>Professional</dd>'
	check "$role: the owner" body_has 'Demo Owner (demo@example.com)'
	check "$role: the creation date in words: $created" grep -Eq "<time datetime=\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\">$created</time>" "$T/body"
	check "$role: no date as 2026-12-01 or December 1, 2026 in the text" dates_in_words
	check "$role: a leave link" body_has "$P/leave"
	check "$role: General is in the navigation, current" body_has 'settings/general" aria-current="page">General</a>'
	check "$role: valid HTML" tidy_ok
done
get demo $P
check "owner: rename form" body_has 'name="name"'
check "owner: transfer form offering the admin" grep -q 'Demo Admin\|admin@example.com' "$T/body"
check "owner: transfer form does not offer a pending invitation" sh -c "! grep -q 'pending@example.com' '$T/body'"
check "owner: the delete link" body_has "$P/delete"
check "owner: API keys and Audit log in the navigation" sh -c "grep -q '/settings/api-keys\"' '$T/body' && grep -q '/settings/audit\"' '$T/body'"
get admin $P
check "admin: rename form" body_has 'name="name"'
check "admin: no transfer form" sh -c "! grep -q 'general/transfer' '$T/body'"
check "admin: no delete link" sh -c "! grep -q 'general/delete' '$T/body'"
get member $P
check "member: no rename form" sh -c "! grep -q 'name=\"name\"' '$T/body'"
check "member: API keys in the navigation, no Audit log" sh -c "grep -q '/settings/api-keys\"' '$T/body' && ! grep -q '/settings/audit\"' '$T/body'"
get viewer $P
check "viewer: neither API keys nor Audit log in the navigation" sh -c "! grep -q '/settings/api-keys\"' '$T/body' && ! grep -q '/settings/audit\"' '$T/body'"

sql "UPDATE billing_config SET plan_status = 'canceled' WHERE workspace_id = '$ACME'" >/dev/null
get demo $P
check "a cancelled plan says so, in words" body_has '<dt>Plan</dt><dd>Professional (cancelled)</dd>'
sql "UPDATE billing_config SET plan_status = 'active' WHERE workspace_id = '$ACME'" >/dev/null

get demo /w/acme/settings
is "/w/acme/settings: 303" "$STATUS" 303
is "... to General" "$(header Location)" "$P"

# --- Rename --------------------------------------------------------------
before=$(audits)
for role in member viewer; do
	post "$role" $P name="Taken Over"
	is "$role: rename is 403" "$STATUS" 403
	check "$role: ... the 403 page names the roles" body_has "owner or admin role in this workspace; you are a $role."
done
is "refused renames change nothing" "$(sql "SELECT name FROM workspaces WHERE id = '$ACME'")/$(audits)" "Acme Corp/$before"

post admin $P name="  Acme Holdings  "
is "admin: rename answers 303" "$STATUS" 303
is "... back to General" "$(header Location)" "$P"
is "the name is trimmed and stored" "$(sql "SELECT name || '|' || slug FROM workspaces WHERE id = '$ACME'")" "Acme Holdings|acme"
is "one audit row with old and new names" \
	"$(sql "SELECT changes->'old'->>'name' || '>' || (changes->'new'->>'name') FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'workspace.renamed'")" \
	"Acme Corp>Acme Holdings"
get admin $P
check "the notice after the redirect" body_has 'The workspace is now called Acme Holdings.'
check "the header shows the new name" body_has '<span class="ws-name">Acme Holdings</span>'

before=$(audits)
long=$(printf 'x%.0s' $(seq 1 101))
for bad in "" "   " "$long" "$(printf 'two\nlines')" "$(printf 'bell\007')" "$(printf 'c1\302\205x')"; do
	post demo $P "name=$bad"
	is "hostile name: 422" "$STATUS" 422
done
check "... the error is next to the field" grep -q 'id="name-error"' "$T/body"
check "... with aria-invalid" body_has 'aria-invalid="true" aria-describedby="name-error"'
is "hostile names change nothing" "$(sql "SELECT name FROM workspaces WHERE id = '$ACME'")/$(audits)" "Acme Holdings/$before"
post demo $P "name=<script>alert(1)</script>"
is "markup as a name is a name: 303" "$STATUS" 303
get demo $P
check "... shown escaped" body_has '&lt;script&gt;alert(1)&lt;/script&gt;'
check "... never raw" sh -c "! grep -q '<script>' '$T/body'"
ok100=$(printf 'é%.0s' $(seq 1 100))
post demo $P "name=$ok100"
is "100 two-byte characters are 100 characters: 303" "$STATUS" 303
post_raw demo $P name=Forged
is "rename without the CSRF token: 403" "$STATUS" 403

# --- Across workspaces ---------------------------------------------------
login g owner@globex.example
for path in $P $P/leave $P/delete "$P/transfer?member_id=10000000-0000-0000-0000-000000000002" /w/acme/settings; do
	get g "$path"
	is "Globex owner GET $path: 404" "$STATUS" 404
done
post g $P name=Pwned
is "Globex owner renaming Acme: 404" "$STATUS" 404
post g $P/transfer member_id=10000000-0000-0000-0000-000000000007 confirm=1
is "Globex owner transferring Acme: 404" "$STATUS" 404
get demo /w/nope/settings/general
is "unknown workspace: 404" "$STATUS" 404
