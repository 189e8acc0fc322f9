#!/bin/sh
# t010-foundation.sh: nginx -> FastCGI -> PostgreSQL -> template, limits, headers, errors.
. "$ROOT/tests/e2e/lib.sh"

get a /healthz
is "healthz answers 200 when the database is up" "$STATUS" 200
check "healthz body is ok" body_has ok

get a /login
is "the sign-in page renders through nginx" "$STATUS" 200
check "the sign-in page comes from the template (layout and form)" body_has 'Skip to main content'
check "the sign-in form carries a CSRF token" grep -q 'name="csrf_token" value="[A-Za-z0-9_-]\{43\}"' "$T/body"
is "pages are HTML in UTF-8" "$(header Content-Type)" "text/html; charset=utf-8"
check "strict CSP without script" sh -c "grep -i '^Content-Security-Policy: default-src .none.;.*frame-ancestors .none.' '$T/headers'"
is "nosniff" "$(header X-Content-Type-Options)" nosniff
check "Referrer-Policy is sent" test -n "$(header Referrer-Policy)"
check "the page is valid HTML (tidy finds no errors)" tidy_ok
check "readable in a text browser" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Sign in'"

get a /static/settings.css
is "static files are served by nginx" "$STATUS" 200
check "static files carry the security headers" sh -c "grep -qi '^X-Content-Type-Options: nosniff' '$T/headers'"

get a /no/such/page
is "an unknown path is a 404 page" "$STATUS" 404
check "the 404 page is rendered in the layout" body_has 'Skip to main content'
check "the 404 answer has the security headers" sh -c "grep -qi '^Content-Security-Policy' '$T/headers'"

get a '/login?next=%zz'
is "a malformed percent-escape is a 400" "$STATUS" 400
get a '/login?next=%C0%AF'
is "an overlong UTF-8 sequence is a 400" "$STATUS" 400
get a '/login?next=%00'
is "a NUL byte is a 400" "$STATUS" 400
q=$(i=0; while [ $i -lt 101 ]; do printf 'f%d=1&' $i; i=$((i + 1)); done)
get a "/login?$q"
is "more than 100 fields is a 400" "$STATUS" 400

head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
STATUS=$(curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' --data-binary "@$T/big" -H 'Content-Type: application/x-www-form-urlencoded' "$BASE/login")
is "a body over 64 KiB is a 413" "$STATUS" 413
check "the 413 page has the security headers" sh -c "grep -qi '^Content-Security-Policy' '$T/headers'"

STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X DELETE "$BASE/login")
is "a method a route does not take is a 405" "$STATUS" 405

get a /
is "the site root sends people to sign in" "$STATUS" 303
