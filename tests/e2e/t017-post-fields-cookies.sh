#!/bin/sh
# t017-post-fields-cookies.sh: a POST's fields come from its body only (a
# csrf_token in the query string is refused); every answer that sets or
# clears the session cookie is no-store.
. "$ROOT/tests/e2e/lib.sh"
TEAM=/w/acme/settings/team

login o demo@example.com
is "sign-in: 303" "$STATUS" 303
check "... sets the session cookie" sh -c "tr -d '\r' <'$T/headers' | grep -qi '^Set-Cookie: session=[^;]'"
is "... and is no-store" "$(header Cache-Control)" no-store

tok=$(csrf o)
# The right token, but only in the address.
curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -b "$T/o.jar" \
	--data-urlencode email=query-token@example.com -d role=viewer \
	"$BASE$TEAM/invite?csrf_token=$tok" >"$T/st"
is "a csrf_token in a POST's query string is refused" "$(cat "$T/st")" 403
is "... and nothing was stored" \
	"$(sql "SELECT count(*) FROM team_members WHERE invitation_email = 'query-token@example.com'")" 0
# Fields in the address do not count either: the body's email is the one used.
curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -b "$T/o.jar" \
	--data-urlencode "csrf_token=$tok" --data-urlencode email=body-email@example.com -d role=viewer \
	"$BASE$TEAM/invite?csrf_token=wrong&email=query-email@example.com&role=admin" >"$T/st"
is "the token in the body is what counts" "$(cat "$T/st")" 303
is "... and the body's fields are the ones used" \
	"$(sql "SELECT invitation_email || ' ' || role FROM team_members WHERE invitation_email LIKE '%-email@example.com'")" \
	"body-email@example.com viewer"

post o /logout
is "sign-out: 303" "$STATUS" 303
check "... clears the session cookie" sh -c "tr -d '\r' <'$T/headers' | grep -qi '^Set-Cookie: session=;'"
is "... and is no-store" "$(header Cache-Control)" no-store
