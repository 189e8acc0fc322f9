#!/bin/sh
# t510-apikeys.sh: API keys by role: the list (dates in the one style, relative where it helps), create (shown once, SHA-256 stored), the plan's limit (409, also racing), revoke (own or any) through its confirmation, the counter, 404 across workspaces.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/api-keys
counter() { sql "SELECT api_keys_current || '/' || (SELECT count(*) FROM api_keys WHERE workspace_id = '$ACME' AND revoked_at IS NULL) FROM billing_config WHERE workspace_id = '$ACME'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'"; }

get anon $P
is "signed out: 303 to sign in" "$STATUS" 303

for role in demo admin member; do
	login "$role" "$role@example.com"
	get "$role" $P
	is "$role: GET API keys is 200" "$STATUS" 200
	check "$role: the seeded keys are listed" body_has 'Production ingest'
	check "$role: by prefix" body_has '<code>ak_live_4f1c…</code>'
	check "$role: usage of the plan's limit" body_has 'Active keys: <strong>3</strong> of 10'
	check "$role: who created it" body_has 'by Demo Owner'
	check "$role: when, in words, in <time>" words_date_shown
	check "$role: no date as 2026-12-01 or December 1, 2026 in the text" dates_in_words
	check "$role: valid HTML" tidy_ok
done
created=$(sql "SELECT to_char(created_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') FROM api_keys WHERE id = '40000000-0000-0000-0000-000000000001'")
check "created: $created by whom" grep -Eq "<time datetime=\"[0-9T:Z-]+\">$created</time> by Demo Owner" "$T/body"
sql "UPDATE api_keys SET last_used_at = now() - interval '3 days 2 hours' WHERE id = '40000000-0000-0000-0000-000000000001'" >/dev/null
get member $P
check "last used: 3 days ago, with the moment in datetime=" grep -Eq '<time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z">3 days ago</time>' "$T/body"
check "a text browser reads each revoke link as its visible word (the key's name in aria-label)" \
	sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'active +Revoke… ' && ! w3m -dump -cols 200 -T text/html '$T/body' | grep -q 'Revoke CI'"
check "... and a screen reader hears which key" body_has 'aria-label="Revoke the key CI pipeline…">Revoke…</a>'
check "no key hash is ever shown" sh -c "! grep -q '$(sql "SELECT key_hash FROM api_keys LIMIT 1")' '$T/body'"

login viewer viewer@example.com
before="$(counter)/$(audits)"
get viewer $P
is "viewer: GET is 403" "$STATUS" 403
check "... naming the roles" body_has 'owner, admin or member role in this workspace; you are a viewer.'
post viewer $P name=Sneaky expires_in_days=30
is "viewer: create is 403" "$STATUS" 403
post viewer $P/40000000-0000-0000-0000-000000000001/revoke confirm=1
is "viewer: revoke is 403" "$STATUS" 403
is "viewer refusals change nothing" "$(counter)/$(audits)" "$before"

# --- Create -----------------------------------------------------------------
post member $P name="  Laptop  " expires_in_days=30
is "member creates a key: 303" "$STATUS" 303
is "... back to the page" "$(header Location)" "$P"
get member $P
key=$(sed -n 's/.*id="new-key"[^>]*value="\(sk_live_[A-Za-z0-9_-]*\)".*/\1/p' "$T/body" | head -1)
check "the full key is shown once, sk_live_ and 43 URL-safe characters" sh -c "printf %s '$key' | grep -Eq '^sk_live_[A-Za-z0-9_-]{43}$'"
check "... with the warning" body_has 'it is shown only this once'
expires=$(sql "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') FROM api_keys WHERE name = 'Laptop'")
check "... when it expires: in 30 days, on $expires" grep -Eq "It expires in 30 days, on <time datetime=\"[0-9T:Z-]+\">$expires</time>\." "$T/body"
check "... no other date style in the text" dates_in_words
check "... valid HTML" tidy_ok
hash=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
is "only its SHA-256 is stored, with the shown prefix and the name trimmed" \
	"$(sql "SELECT name || '|' || key_prefix || '|' || (expires_at::date - now()::date) FROM api_keys WHERE key_hash = '$hash'")" \
	"Laptop|$(printf %s "$key" | cut -c1-16)|30"
is "the full key is stored nowhere" "$(sql "SELECT count(*) FROM api_keys a, audit_logs l WHERE a.key_hash = '$key' OR l.changes::text LIKE '%$(printf %s "$key" | cut -c9-)%'")" 0
get member $P
check "a second view does not show the key again" sh -c "! grep -q '$key' '$T/body'"
check "... the list shows it by prefix" body_has "$(printf %s "$key" | cut -c1-16)…"
check "... expiring in 30 days ($expires)" grep -Eq "in 30 days <small>\(<time datetime=\"[0-9T:Z-]+\">$expires</time>\)</small>" "$T/body"
is "the counter follows (api_keys_current = real count)" "$(counter)" "4/4"
is "audit row api_key.created without the secret" \
	"$(sql "SELECT changes->>'name' || '|' || (changes ? 'key_hash') FROM audit_logs WHERE action = 'api_key.created'")" "Laptop|false"
is "api_key_verify finds the workspace of the new key" "$(sql "SELECT api_key_verify('$key')")" "$ACME"

for bad in "name=" "name=   " "name=$(printf 'x%.0s' $(seq 1 101))" "name=$(printf 'a\nb')"; do
	before="$(counter)/$(audits)"
	post admin $P "$bad" expires_in_days=90
	is "invalid name: 422" "$STATUS" 422
	is "... nothing stored" "$(counter)/$(audits)" "$before"
done
check "... the error next to the field" body_has 'id="key-name-error"'
post admin $P name=Ok expires_in_days=7
is "an expiry not offered: 422" "$STATUS" 422
check "... the error next to the select" body_has 'id="expires-error"'
check "... the name kept" body_has 'value="Ok"'
post admin $P name="<img src=x onerror=alert(1)>" expires_in_days=none
is "markup as a key name is a name: 303" "$STATUS" 303
get admin $P
check "... escaped in the one-time panel and the list" sh -c "! grep -q '<img src=x' '$T/body' && grep -q '&lt;img src=x' '$T/body'"
is "no expiry stored as NULL" "$(sql "SELECT count(*) FROM api_keys WHERE name LIKE '<img%' AND expires_at IS NULL")" 1
post_raw admin $P name=NoToken expires_in_days=30
is "create without the CSRF token: 403" "$STATUS" 403

# --- The plan's limit ----------------------------------------------------------
sql "UPDATE billing_config SET api_keys_limit = 6 WHERE workspace_id = '$ACME'" >/dev/null
post demo $P name=Sixth expires_in_days=30
is "the sixth key fits a limit of 6: 303" "$STATUS" 303
before="$(counter)/$(audits)"
post demo $P name=Seventh expires_in_days=30
is "a seventh key: 409" "$STATUS" 409
check "... saying why" body_has 'Your plan allows 6 active API keys and all are in use.'
check "... the name kept" body_has 'value="Seventh"'
is "... nothing stored" "$(counter)/$(audits)" "$before"

# Racing at the limit: free one slot, then two creations at once: one fits.
sql "UPDATE billing_config SET api_keys_limit = 7 WHERE workspace_id = '$ACME'" >/dev/null
_tok=$(csrf demo)
for i in 1 2 3; do
	curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/demo.jar" --data-urlencode "csrf_token=$_tok" \
		--data "name=race$i&expires_in_days=30" "$BASE$P" >"$T/r$i" &
done
wait
is "three creations racing for one free slot: one 303, two 409" "$(cat "$T/r1" "$T/r2" "$T/r3" | sort | tr '\n' ' ')" "303 409 409 "
is "... active keys equal the limit and the counter" "$(counter)" "7/7"

# --- Revoke -----------------------------------------------------------------------
OTHER=40000000-0000-0000-0000-000000000001   # created by the owner
MINE=$(sql "SELECT id FROM api_keys WHERE key_hash = '$hash'")
get member $P
check "member: revoke offered for their own key" body_has "$P/$MINE/revoke"
check "member: not for the owner's key" sh -c "! grep -q '$P/$OTHER/revoke' '$T/body'"
before="$(counter)/$(audits)"
post member $P/$OTHER/revoke confirm=1
is "member revoking someone else's key: 403" "$STATUS" 403
check "... the 403 page leads back to the API keys" body_has '<a href="/w/acme/settings/api-keys">Back to the API keys page</a>'
is "... nothing changed" "$(counter)/$(audits)" "$before"
get member $P/$MINE/revoke
is "member GET revoke of their own key: the confirmation (200)" "$STATUS" 200
check "... says what will happen" body_has 'will stop working at once'
check "... the key's facts first, as the team's confirmations" sh -c "grep -q '<dt>Status</dt><dd>Active</dd>' '$T/body' && grep -Eq '<dt>Expires</dt><dd>in 30 days \(<time datetime=\"[0-9T:Z-]+\">$expires</time>\)</dd>' '$T/body'"
check "... and the way back" body_has '/settings/api-keys">Cancel and go back to the API keys page</a>'
check "... no other date style in the text" dates_in_words
post member $P/$MINE/revoke
is "POST without confirm=1: the confirmation (200)" "$STATUS" 200
is "... nothing changed yet" "$(counter)/$(audits)" "$before"
post member $P/$MINE/revoke confirm=1
is "member revokes their own key: 303" "$STATUS" 303
is "revoked_at and revoked_by are set" "$(sql "SELECT revoked_at IS NOT NULL AND revoked_by = '10000000-0000-0000-0000-000000000003' FROM api_keys WHERE id = '$MINE'")" t
is "the counter follows" "$(counter)" "6/6"
is "audit row with old and new status" "$(sql "SELECT (changes->'old'->>'status') || '>' || (changes->'new'->>'status') FROM audit_logs WHERE action = 'api_key.revoked' AND resource_id = '$MINE'")" "active>revoked"
is "a revoked key no longer verifies" "$(sql "SELECT api_key_verify('$key') IS NULL")" t
get member $P
check "the list shows it revoked" body_has 'revoked</span>'
check "... on which day, in words" grep -Eq 'revoked</span> <small>on <time datetime="[0-9T:Z-]+">[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}</time></small>' "$T/body"
post member $P/$MINE/revoke confirm=1
is "revoking it again: 409 (cannot be revived or revoked twice)" "$STATUS" 409
post admin $P/$OTHER/revoke confirm=1
is "admin revokes the owner's key: 303" "$STATUS" 303
sql "UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE id = '40000000-0000-0000-0000-000000000002'" >/dev/null
get admin $P
check "an expired key shows as expired" body_has 'expired</span>'
yesterday=$(sql "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') FROM api_keys WHERE id = '40000000-0000-0000-0000-000000000002'")
check "... with the day it expired ($yesterday), not a countdown" grep -Eq "<td><time datetime=\"[0-9T:Z-]+\">$yesterday</time></td>" "$T/body"
get admin $P/40000000-0000-0000-0000-000000000002/revoke
check "... its confirmation says so" grep -Eq "<dt>Expires</dt><dd>expired on <time datetime=\"[0-9T:Z-]+\">$yesterday</time></dd>" "$T/body"
is "an expired key no longer verifies" "$(sql "SELECT api_key_verify('ak_live_9b2e-dev-seed-key-staging') IS NULL")" t
post admin $P/40000000-0000-0000-0000-000000000002/revoke confirm=1
is "an expired key can be revoked: 303" "$STATUS" 303

# --- Across workspaces ---------------------------------------------------------------
login g owner@globex.example
GKEY=$(sql "INSERT INTO api_keys (workspace_id, name, key_prefix, key_hash) VALUES ('00000000-0000-0000-0000-000000000002', 'Globex key', 'sk_live_globex00', repeat('a', 64)) RETURNING id" | head -1)
get g $P
is "Globex owner on Acme's keys: 404" "$STATUS" 404
post g $P name=x expires_in_days=30
is "Globex owner creating in Acme: 404" "$STATUS" 404
post demo $P/$GKEY/revoke confirm=1
is "Acme owner revoking a Globex key id: 404" "$STATUS" 404
is "... it stays active" "$(sql "SELECT revoked_at IS NULL FROM api_keys WHERE id = '$GKEY'")" t
get demo $P/not-a-uuid/revoke
is "a malformed key id: 404" "$STATUS" 404
check "... the 404 page leads back to the API keys" body_has '<a href="/w/acme/settings/api-keys">Back to the API keys page</a>'
get g /w/globex/settings/api-keys
check "Globex sees its own key, not Acme's" sh -c "grep -q 'Globex key' '$T/body' && ! grep -q 'Production ingest' '$T/body'"
