#!/bin/sh
# t020-signin.sh: sign-in, failures, lockout, next, cookies, sign-out.
. "$ROOT/tests/e2e/lib.sh"

get u /w/acme/settings/team
is "a page without a session sends you to sign in" "$STATUS" 303
is "... remembering where you were going" "$(header Location)" "/login?next=%2Fw%2Facme%2Fsettings%2Fteam"

login u demo@example.com
is "signing in with the right password answers 303" "$STATUS" 303
is "... to the first workspace's team page" "$(header Location)" "/w/acme/settings/team"
cookie=$(grep -i '^Set-Cookie: session=' "$T/headers" | tr -d '\r')
check "the session cookie is HttpOnly" sh -c "echo '$cookie' | grep -q 'HttpOnly'"
check "the session cookie is SameSite=Lax" sh -c "echo '$cookie' | grep -q 'SameSite=Lax'"
check "the session cookie is Path=/" sh -c "echo '$cookie' | grep -q 'Path=/'"
check "over plain HTTP the cookie is not Secure" sh -c "! echo '$cookie' | grep -q 'Secure'"
token=$(echo "$cookie" | sed 's/^Set-Cookie: session=\([^;]*\);.*/\1/')
is "the session token is 32 random bytes, base64url" "$(printf %s "$token" | grep -cE '^[A-Za-z0-9_-]{43}$')" 1
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
is "only the SHA-256 of the token is stored" "$(sql "SELECT count(*) FROM sessions WHERE token_hash = '$hash'")" 1
is "the token itself is stored nowhere" "$(sql "SELECT count(*) FROM sessions WHERE token_hash = '$token' OR csrf_token = '$token'")" 0
get u /w/acme/settings/team
is "the session opens the team page" "$STATUS" 200
check "signed-in pages are not cached" sh -c "grep -qi '^Cache-Control: no-store' '$T/headers'"

get u /login
is "signed in, /login goes on to the workspace" "$(header Location)" "/w/acme/settings/team"
get u '/login?next=%2Fw%2Facme%2Fsettings%2Fintegrations'
is "signed in, /login?next= goes on to next" "$(header Location)" "/w/acme/settings/integrations"
sql "INSERT INTO users (email, password_hash, full_name, is_verified)
     SELECT 'loner@example.com', password_hash, 'Lone User', true FROM users WHERE email = 'demo@example.com'" >/dev/null
login lone loner@example.com
is "someone in no workspace signs in to /login" "$(header Location)" "/login"
get lone /login
is "... which answers 200" "$STATUS" 200
check "... and says they belong to no workspace yet" body_has 'not an active member of any workspace'

login u2 demo@example.com
first=$(grep -i '^Set-Cookie: session=' "$T/headers")
login u2 demo@example.com
second=$(grep -i '^Set-Cookie: session=' "$T/headers")
check "every sign-in issues a new token" test "$first" != "$second"

# Both failures: same status, same message.
login bad1 demo@example.com wrong-password
s1=$STATUS; m1=$(grep -o 'class="error-message"[^<]*' "$T/body")
login bad2 nobody@example.com wrong-password
s2=$STATUS; m2=$(grep -o 'class="error-message"[^<]*' "$T/body")
is "a wrong password answers 401" "$s1" 401
is "an unknown email answers 401" "$s2" 401
is "both failures show the same single message" "$m1" "$m2"
check "the email is kept in the form, escaped" body_has 'value="nobody@example.com"'
# An unknown email still pays for one bcrypt verification (no timing oracle).
t_known=$(curl -s -o /dev/null -w '%{time_total}' -b "$T/bad1.jar" --data-urlencode "csrf_token=$(csrf bad1)" -d email=demo@example.com -d password=nope "$BASE/login")
t_unknown=$(curl -s -o /dev/null -w '%{time_total}' -b "$T/bad1.jar" --data-urlencode "csrf_token=$(csrf bad1)" -d email=ghost@example.com -d password=nope "$BASE/login")
check "an unknown email takes about as long as a wrong password" awk -v a="$t_known" -v b="$t_unknown" 'BEGIN { exit !(b > a * 0.4) }'

sql "DELETE FROM login_attempts" >/dev/null
login x1 '<script>alert(1)</script>@example.com' x
is "a hostile email is answered 401, not a crash" "$STATUS" 401
check "... and is escaped in the page" sh -c "! grep -q '<script>alert' '$T/body' && grep -q '&lt;script&gt;' '$T/body'"

# Lockout: ten failures for one email within 15 minutes.
sql "DELETE FROM login_attempts" >/dev/null
i=0; while [ $i -lt 10 ]; do login lock member@example.com wrong; i=$((i + 1)); done
is "the tenth failure is still a 401" "$STATUS" 401
login lock member@example.com demo-password
is "after ten failures the right password gets 429" "$STATUS" 429
check "the 429 page says to wait" body_has 'Wait 15 minutes'
is "failures are counted in the database" "$(sql "SELECT count(*) FROM login_attempts WHERE email = 'member@example.com'")" 10
sql "UPDATE login_attempts SET attempted_at = now() - interval '16 minutes'" >/dev/null
login lock member@example.com demo-password
is "once the window has passed, signing in works again" "$STATUS" 303

get tk '/login?next=%2Finvite%2Faccept%3Ftoken%3Dabc'
is "the sign-in page sends no full Referer (next may carry a token)" "$(header Referrer-Policy)" "strict-origin"

# Parallel guesses cannot beat the count: 20 at once, exactly 10 recorded.
sql "DELETE FROM login_attempts" >/dev/null
get par /login
ptok=$(csrf par)
i=0; while [ $i -lt 20 ]; do
	curl -s -o /dev/null -w '%{http_code}\n' -b "$T/par.jar" --data-urlencode "csrf_token=$ptok" \
		-d email=admin@example.com -d password=wrong "$BASE/login" >>"$T/par.codes" &
	i=$((i + 1))
done
wait
# Guesses for one email wait in line (each holds the line for a bcrypt); on a
# loaded machine one may wait longer than lock_timeout and get the 503 page,
# having changed nothing. Whatever the load, no more than 10 are ever counted.
n401=$(grep -c '^401$' "$T/par.codes"); n429=$(grep -c '^429$' "$T/par.codes")
n503=$(grep -c '^503$' "$T/par.codes"); nrec=$(sql "SELECT count(*) FROM login_attempts WHERE email = 'admin@example.com'")
echo "# 20 parallel wrong passwords: $n401 x 401, $n429 x 429, $n503 x 503 (the wait for the line); $nrec recorded"
is "20 parallel wrong passwords: each answered 401, 429 or (waited too long) 503" $((n401 + n429 + n503)) 20
is "... every 401 is a recorded failure, and nothing else was recorded" "$nrec" "$n401"
check "... at most 10 failures were recorded (parallel guesses cannot beat the count)" test "$nrec" -le 10 -a "$nrec" -ge 1
if [ "$n503" = 0 ]; then
	is "... with no wait too long: exactly 10 answered 401" "$n401" 10
	is "... and 10 answered 429" "$n429" 10
fi
sql "DELETE FROM login_attempts" >/dev/null

# next: only local paths.
get n /login
post n /login email=demo@example.com password=demo-password next=/w/acme/settings/integrations
is "next sends you back where you were going" "$(header Location)" "/w/acme/settings/integrations"
get n2 /login
post n2 /login email=demo@example.com password=demo-password next=//evil.example/x
is "a next of //host is ignored" "$(header Location)" "/w/acme/settings/team"
get n3 /login
post n3 /login email=demo@example.com password=demo-password next=https://evil.example/
is "a next with a scheme is ignored" "$(header Location)" "/w/acme/settings/team"
get n4 /login
post n4 /login email=demo@example.com password=demo-password 'next=/\evil.example'
is "a next of /\\host is ignored" "$(header Location)" "/w/acme/settings/team"

# Sign-out ends the session server-side.
login out viewer@example.com
cp "$T/out.jar" "$T/stolen.jar"
post out /logout
is "signing out answers 303" "$STATUS" 303
is "... to the sign-in page" "$(header Location)" "/login"
get stolen /w/acme/settings/team
is "the old cookie no longer opens anything" "$STATUS" 303
is "the session row is gone" "$(sql "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'viewer@example.com'")" 0

# Over HTTPS (as plain CGI with HTTPS=on): __Host- cookie with Secure.
printf 'csrf_token=abcabcabcabcabcabcabcabcabcabcabcabcabcabca&email=demo%%40example.com&password=demo-password' >"$T/b"
as_user env -i PATH="$PATH" REQUEST_METHOD=POST REQUEST_URI=/login HTTPS=on HTTP_HOST=example.test \
	CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=$(wc -c <"$T/b") \
	HTTP_COOKIE='__Host-csrf=abcabcabcabcabcabcabcabcabcabcabcabcabcabca' DATABASE_URL="$(APP_URL)" \
	SETTINGS_TEMPLATES="$ROOT/templates" BCRYPT_COST=4 "$BUILD/bin/auth" <"$T/b" >"$T/https" 2>/dev/null
check "over HTTPS the cookie is named __Host-session" grep -q '^Set-Cookie: __Host-session=' "$T/https"
check "over HTTPS the cookie is Secure" sh -c "grep '^Set-Cookie: __Host-session=' '$T/https' | grep -q 'Secure'"
check "over HTTPS the answer asks for HTTPS only from now on (HSTS)" grep -q '^Strict-Transport-Security: max-age=' "$T/https"
check "over plain HTTP there is no HSTS header" sh -c "! grep -qi '^Strict-Transport-Security' '$T/headers'"
