#!/bin/sh
# t511-workspace-hostile.sh: hostile input on General, API keys and the audit log: bad encodings, oversized bodies, injection attempts, forged ids, cross-site posts; never a 5xx, nothing changed.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
state() { sql "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
                 SELECT name::text || slug || coalesce(deleted_at::text, '') AS x FROM workspaces
                 UNION ALL SELECT id::text || coalesce(revoked_at::text, '') || name FROM api_keys
                 UNION ALL SELECT id::text || role || status || coalesce(deleted_at::text, '') FROM team_members
                 UNION ALL SELECT count(*)::text FROM audit_logs) s"; }
before=$(state)
login demo demo@example.com
G=/w/acme/settings/general
K=/w/acme/settings/api-keys
A=/w/acme/settings/audit

post_raw demo $G "csrf_token=$(csrf demo)" "name=$(printf 'bad\377utf8')"
is "invalid UTF-8 in a name: 400" "$STATUS" 400
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/demo.jar" --data-urlencode "csrf_token=$(csrf demo)" \
	--data-urlencode "name@$T/big" "$BASE$G")
is "a 70 KB body: 413" "$STATUS" 413
post demo $G "name=Robert'); DROP TABLE workspaces;--"
is "SQL in a name is only a name: 303" "$STATUS" 303
is "... stored as typed" "$(sql "SELECT name FROM workspaces WHERE id = '$ACME'")" "Robert'); DROP TABLE workspaces;--"
sql "UPDATE workspaces SET name = 'Acme Corp' WHERE id = '$ACME'" >/dev/null
sql "DELETE FROM audit_logs WHERE action = 'workspace.renamed'" >/dev/null
post demo $G/transfer "member_id=10000000-0000-0000-0000-000000000002' OR '1'='1" confirm=1
is "an injected member id: 422" "$STATUS" 422
post demo $G/transfer member_id=junk member_id=10000000-0000-0000-0000-000000000002 confirm=1
is "a repeated member_id with one bad value: refused (422)" "$STATUS" 422
post demo $G/delete slug=acme "password=$(printf 'x%.0s' $(seq 1 2000))" confirm=1
is "a 2,000-character password: 422" "$STATUS" 422
post demo $G/leave confirm=2
is "confirm=2 is no confirmation: 409 for the last owner before anything" "$STATUS" 409
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/demo.jar" -H "Origin: https://evil.example" \
	--data-urlencode "csrf_token=$(csrf demo)" --data "name=Evil" "$BASE$G")
is "a cross-site rename: 403" "$STATUS" 403
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/demo.jar" -H "Sec-Fetch-Site: cross-site" \
	--data-urlencode "csrf_token=$(csrf demo)" --data "name=key&expires_in_days=30" "$BASE$K")
is "a cross-site key creation: 403" "$STATUS" 403
post_raw demo "$G?csrf_token=$(csrf demo)" name=Query
is "the right token, but in the query string: 403" "$STATUS" 403

post demo $K "name=$(printf 'n\001ull')" expires_in_days=30
is "a control character in a key name: 422" "$STATUS" 422
post demo $K name=ok "expires_in_days=30;DROP"
is "an injected expiry: 422" "$STATUS" 422
post demo $K name=ok expires_in_days=-1
is "a negative expiry: 422" "$STATUS" 422
post demo "$K/40000000-0000-0000-0000-00000000000Z/revoke" confirm=1
is "a malformed key id: 404" "$STATUS" 404
post demo "$K/..%2F..%2Fteam/revoke" confirm=1
is "a path trick as a key id: 404" "$STATUS" 404
get demo "$K/40000000-0000-0000-0000-000000000001/delete"
is "an unknown key action: 404" "$STATUS" 404

for q in "action=team_member.invited'--" "actor=' OR 1=1--" "from=2026-01-01'" "to=99999-01-01" "before=1_00000000-0000-0000-0000-000000000000'" \
         "before=99999999999999999999_00000000-0000-0000-0000-000000000000" "before=-5_00000000-0000-0000-0000-000000000000"; do
	get demo "$A?$(printf %s "$q" | sed "s/ /%20/g; s/'/%27/g")"
	case $STATUS in 400|422) ok "audit filter $q: $STATUS" ;; *) notok "audit filter $q: 400 or 422" "got $STATUS" ;; esac
done
get demo "$A?before=1_00000000-0000-0000-0000-000000000000"
is "a well-formed cursor from long ago: 200, nothing older" "$STATUS" 200
get demo "$A.csv?actor=%00"
case $STATUS in 400|422) ok "a NUL in a CSV filter: $STATUS" ;; *) notok "a NUL in a CSV filter" "got $STATUS" ;; esac
is "nothing changed by any of it" "$(state)" "$before"
check "no 5xx in the logs of the three executables" sh -c "! grep -hE ' 5[0-9][0-9] [0-9]+ms' '$VAR/log/general.log' '$VAR/log/apikeys.log' '$VAR/log/audit.log'"
