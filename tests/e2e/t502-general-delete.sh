#!/bin/sh
# t502-general-delete.sh: deleting a workspace (owner only, typed slug and password, 422 changes nothing), what deletion does everywhere, restore within 30 days.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/general
state() { sql "SELECT coalesce(w.deleted_at::text, 'live') || '/' || b.plan_status || '/' ||
                      (SELECT count(*) FROM integrations_config i WHERE i.workspace_id = w.id AND i.is_enabled) || '/' ||
                      (SELECT count(*) FROM audit_logs a WHERE a.workspace_id = w.id)
                 FROM workspaces w JOIN billing_config b ON b.workspace_id = w.id WHERE w.id = '$ACME'"; }
enabled_before=$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled")
before=$(state)

login demo demo@example.com
login admin admin@example.com
login member member@example.com
login viewer viewer@example.com
# The admin is in Globex too, so their switcher lists both workspaces.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)
     VALUES ('00000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-000000000002', 'member', 'active', now())" >/dev/null
get admin /w/globex/settings/general
check "before: the admin's switcher lists Acme" body_has 'href="/w/acme/settings/'

for role in admin member viewer; do
	get "$role" $P/delete
	is "$role: GET delete is 403" "$STATUS" 403
	post "$role" $P/delete slug=acme password=demo-password confirm=1
	is "$role: POST delete is 403" "$STATUS" 403
done
is "refusals change nothing" "$(state)" "$before"

get demo $P/delete
is "owner: GET delete shows the confirmation (200)" "$STATUS" 200
check "... says what will happen" body_has 'For 30 days an owner can restore it'
check "... asks for the slug" body_has 'name="slug"'
check "... and the password" body_has 'name="password" type="password"'
check "... valid HTML" tidy_ok
post demo $P/delete slug=acme password=demo-password
is "owner: POST without confirm=1: the confirmation again (200)" "$STATUS" 200
is "... nothing changed" "$(state)" "$before"
post demo $P/delete slug=ACME password=demo-password confirm=1
is "a wrong slug: 422" "$STATUS" 422
check "... the error next to the slug field" body_has 'id="slug-error"'
check "... the typed slug is kept" body_has 'value="ACME"'
post demo $P/delete slug=acme password=wrong-password confirm=1
is "a wrong password: 422" "$STATUS" 422
check "... the error next to the password field" body_has 'id="password-error"'
check "... the password is never echoed" sh -c "! grep -q 'wrong-password' '$T/body'"
post demo $P/delete confirm=1
is "neither: 422" "$STATUS" 422
check "... both errors" sh -c "grep -q 'id=\"slug-error\"' '$T/body' && grep -q 'id=\"password-error\"' '$T/body'"
is "422s change nothing" "$(state)" "$before"
post_raw demo $P/delete slug=acme password=demo-password confirm=1
is "without the CSRF token: 403" "$STATUS" 403

post demo $P/delete slug=acme password=demo-password confirm=1
is "owner deletes with slug and password: 303" "$STATUS" 303
is "... to the no-workspace page (no other workspace)" "$(header Location)" "/login"
is "deleted_at is set" "$(sql "SELECT deleted_at IS NOT NULL FROM workspaces WHERE id = '$ACME'")" t
is "every integration is off" "$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled")" 0
is "billing says cancelled" "$(sql "SELECT plan_status || '/' || auto_renew FROM billing_config WHERE workspace_id = '$ACME'")" "canceled/false"
is "the audit row, old and new values" \
	"$(sql "SELECT (changes->'old'->>'deleted_at' IS NULL) || '/' || (changes->'new'->>'deleted_at' IS NOT NULL) || '/' || (changes->'new'->>'plan_status') FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'workspace.deleted'")" "true/true/canceled"
sql "UPDATE integrations_config SET is_enabled = true WHERE workspace_id = '$ACME'" >/dev/null
is "an integration of a deleted workspace cannot be switched on again, whoever writes" \
	"$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled")" 0
is "its API keys no longer verify" "$(sql "SELECT api_key_verify('ak_live_4f1c-dev-seed-key-production') IS NULL")" t

for role in demo admin member viewer; do
	for path in $P /w/acme/settings /w/acme/settings/team /w/acme/settings/billing /w/acme/settings/integrations \
	            /w/acme/settings/api-keys /w/acme/settings/audit /w/acme/settings/audit.csv; do
		get "$role" "$path"
		[ "$STATUS" = 404 ] || notok "$role: GET $path after deletion is 404" "got $STATUS"
	done
	ok "$role: every page under the deleted workspace answers 404"
	post "$role" /w/acme/settings/team/invite email=x@example.com role=member
	is "$role: an action under it answers 404" "$STATUS" 404
done
get admin /w/globex/settings/general
check "the admin's switcher no longer lists Acme" sh -c "! grep -q 'href=\"/w/acme/settings/' '$T/body'"

get demo /login
check "the owner's no-workspace page lists the deleted workspace" body_has 'Deleted workspaces'
check "... with a restore button" body_has 'action="/w/acme/settings/general/restore"'
deleted=$(sql "SELECT to_char(deleted_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') || '|' || to_char((deleted_at + interval '30 days') AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY, HH24:MI \"UTC\"') FROM workspaces WHERE id = '$ACME'")
check "... deleted on ${deleted%%|*}, restorable until ${deleted#*|} (in 30 days), in <time>" grep -Eq "deleted on <time datetime=\"[0-9T:Z-]+\">${deleted%%|*}</time>; can be restored until <time datetime=\"[0-9T:Z-]+\">${deleted#*|}</time> \((in 30 days|in 29 days)\)" "$T/body"
check "... no other date style in the text" dates_in_words
get admin /w/globex/settings/general
check "the admin (not an owner) is not offered the restore" sh -c "! grep -q 'general/restore' '$T/body'"
post admin $P/restore
is "the admin cannot restore: 404" "$STATUS" 404
login g owner@globex.example
post g $P/restore
is "Globex's owner cannot restore Acme: 404" "$STATUS" 404
get g /w/globex/settings/general
check "Globex's owner is not offered Acme" sh -c "! grep -q 'acme/settings/general/restore' '$T/body'"
is "still deleted" "$(sql "SELECT deleted_at IS NOT NULL FROM workspaces WHERE id = '$ACME'")" t

post demo $P/restore
is "the owner restores: 303" "$STATUS" 303
is "... to its General page" "$(header Location)" "$P"
get demo $P
is "Acme answers again" "$STATUS" 200
check "... with the notice" body_has 'The workspace has been restored.'
is "the integrations that were on are on again, only those" \
	"$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled")" "$enabled_before"
is "billing stays cancelled until a plan is chosen" "$(sql "SELECT plan_status FROM billing_config WHERE workspace_id = '$ACME'")" canceled
is "a workspace.restored audit row" "$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'workspace.restored' AND changes->'new'->'deleted_at' = 'null'::jsonb")" 1
post demo $P/restore
is "restoring a live workspace: 404" "$STATUS" 404

# Past 30 days: no restore.
post demo $P/delete slug=acme password=demo-password confirm=1
is "deleted again: 303" "$STATUS" 303
sql "UPDATE workspaces SET deleted_at = now() - interval '31 days' WHERE id = '$ACME'" >/dev/null
get demo /login
check "past 30 days it is no longer listed" sh -c "! grep -q 'acme/settings/general/restore' '$T/body'"
post demo $P/restore
is "past 30 days restore answers 409" "$STATUS" 409
is "... and it stays deleted" "$(sql "SELECT deleted_at IS NOT NULL FROM workspaces WHERE id = '$ACME'")" t

# Wrong passwords count like failed sign-ins: the lockout stops guessing.
sql "UPDATE workspaces SET deleted_at = NULL WHERE id = '$ACME'" >/dev/null
sql "DELETE FROM login_attempts" >/dev/null
login demo demo@example.com
for i in $(seq 1 10); do post demo $P/delete slug=acme password="guess$i" confirm=1; done
is "ten wrong passwords: each a 422" "$STATUS" 422
is "... each counted" "$(sql "SELECT count(*) FROM login_attempts WHERE email = 'demo@example.com'")" 10
post demo $P/delete slug=acme password=demo-password confirm=1
is "then even the right password: 429" "$STATUS" 429
is "... and the workspace stays" "$(sql "SELECT deleted_at IS NULL FROM workspaces WHERE id = '$ACME'")" t
