#!/bin/sh
# t018-nginx-edges.sh: nginx's own answers (the / redirect, its 4xx and 5xx
# pages) carry the same security headers as the executables' answers.
. "$ROOT/tests/e2e/lib.sh"

SEC='Content-Security-Policy X-Content-Type-Options X-Frame-Options Referrer-Policy Cross-Origin-Opener-Policy'
# sec_headers: the security headers of the last answer, as "name: value" lines, sorted.
sec_headers() {
	tr -d '\r' <"$T/headers" | grep -iE "^($(echo $SEC | tr ' ' '|')):" | sort
}
get app /no-such-page
app_set=$(sec_headers)
is "the app sends the five security headers" "$(echo "$app_set" | wc -l)" 5

# raw NAME CURL-ARGS...: an answer nginx writes itself.
raw() {
	_n=$1; shift
	STATUS=$(curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" 2>/dev/null)
	is "$_n: the same security headers as the app's" "$(sec_headers)" "$app_set"
}
raw "the / redirect" "$BASE/"
is "/ redirects to the sign-in page" "$STATUS $(header Location)" "303 /login"
raw "a missing static file" "$BASE/static/missing.css"
is "... is nginx's 404 page" "$STATUS" 404
check "... the site's own page, not nginx's" body_has '<h1>Page not found</h1>'
big=$(head -c 12000 /dev/zero | tr '\0' a)
raw "a header too large" -H "X-Big: $big" "$BASE/login"
is "... is a 400" "$STATUS" 400
check "... the site's own page" body_has '<h1>This request could not be understood</h1>'
raw "a malformed Host" -H "Host: bad host" "$BASE/login"
is "... is a 400" "$STATUS" 400
raw "an address too long" "$BASE/login?x=$big"
check "... is a 414 (or 400)" test "$STATUS" = 414 -o "$STATUS" = 400
check "... the site's own page" grep -qE '<h1>(This address is too long|This request could not be understood)</h1>' "$T/body"
body=$(head -c 70000 /dev/zero | tr '\0' a)
raw "a body too large" --data-binary "x=$body" "$BASE/login"
is "... is a 413" "$STATUS" 413
check "nginx's own pages are never stored" sh -c "tr -d '\r' <'$T/headers' | grep -qi '^Cache-Control: no-store'"
check "no nginx version anywhere" sh -c "! grep -qi '^Server: nginx/' '$T/headers'"
