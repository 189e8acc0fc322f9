#!/bin/sh
# t610-account-password.sh: changing the password on /account: the rules, the lockout,
# the other sessions signed out and this one kept with a new token.
. "$ROOT/tests/e2e/lib.sh"

U_MEMBER=10000000-0000-0000-0000-000000000003
PW=demo-password
NEW='a new password 2026'
err() { sed -n "s/.*id=\"$1-error\">\([^<]*\)<.*/\1/p" "$T/body"; }
token_of() { sed -n 's/.*[[:space:]]session[[:space:]]*\([^[:space:]]*\)$/\1/p' "$T/$1.jar" | tail -1; }

login member member@example.com
login other member@example.com
get other /account
check "the second browser is listed as another session" sh -c "grep -c 'this device' '$T/body' | grep -q 1 && grep -q 'Sign out everywhere else' '$T/body'"

# --- Rules -------------------------------------------------------------------
post member /account/password current_password=wrong-password "new_password=$NEW"
is "a wrong current password: 422" "$STATUS" 422
is "... said by the field" "$(err current_password)" "This is not your current password."
is "... counted as a failed sign-in for the email" \
	"$(sql "SELECT count(*) FROM login_attempts WHERE email = 'member@example.com'")" "1"
check "... the passwords are not shown again" sh -c "! grep -q 'wrong-password' '$T/body' && ! grep -q '$NEW' '$T/body'"
post member /account/password current_password= "new_password=$NEW"
is "no current password: 422" "$STATUS" 422
is "... asking for it" "$(err current_password)" "Enter your current password."
post member /account/password "current_password=$PW" new_password=short
is "a new password of 5 characters: 422" "$STATUS" 422
is "... saying how many" "$(err new_password)" "This password has 5 characters: use at least 12."
post member /account/password "current_password=$PW" "new_password=$(python3 -c 'print("é" * 11, end="")')"
is "11 accented characters (22 bytes) are still too few: 422" "$STATUS" 422
post member /account/password "current_password=$PW" "new_password=$(python3 -c 'print("é" * 37, end="")')"
is "37 accented characters (74 bytes) are too many bytes: 422" "$STATUS" 422
check "... explained in characters and bytes" body_has "its 37 characters take 74 bytes"
post member /account/password "current_password=$PW" "new_password=$(printf '%073d' 0)"
is "73 plain characters: 422" "$STATUS" 422
is "... said in characters" "$(err new_password)" "This password has 73 characters: use at most 72."
post member /account/password "current_password=$PW" new_password=Member@Example.com
is "the email (in other letter case): 422" "$STATUS" 422
is "... said so" "$(err new_password)" "Your password cannot be your email address."
post member /account/password "current_password=$PW" "new_password=$PW"
is "the current password again (12+ characters): 422" "$STATUS" 422
is "... said so" "$(err new_password)" "This is your current password: choose a different one."
post member /account/password current_password=wrong-again "new_password=$PW"
is "a wrong current password never reveals whether the new one is the current one" "$(err new_password)" ""
post_raw member /account/password "current_password=$PW" "new_password=$NEW"
is "without the CSRF token: 403" "$STATUS" 403
is "nothing changed so far: the old password still works" \
	"$(sql "SELECT count(*) FROM auth_login_lookup('member@example.com')")" "1"
login check member@example.com
is "... (signing in with it: 303)" "$STATUS" 303
get other /account
is "... and the other browser is still signed in" "$STATUS" 200

# --- The lockout ------------------------------------------------------------------
sql "DELETE FROM login_attempts" >/dev/null
i=0
while [ $i -lt 9 ]; do
	post member /account/password current_password=guess "new_password=$NEW"
	i=$((i + 1))
done
is "nine wrong current passwords: still 422" "$STATUS" 422
login thief member@example.com wrong
is "the tenth failure (a sign-in) is counted with them" "$STATUS" 401
post member /account/password "current_password=$PW" "new_password=$NEW"
is "then even the right current password is refused: 429" "$STATUS" 429
check "... saying to wait" sh -c "grep -q 'Wait 15 minutes' '$T/body'"
login thief member@example.com
is "... and sign-in is locked for the email as well: 429" "$STATUS" 429
sql "DELETE FROM login_attempts" >/dev/null

# --- Success --------------------------------------------------------------------
old_member=$(token_of member)
old_hash=$(sql "SELECT password_hash FROM users WHERE id = '$U_MEMBER'")
login third member@example.com
sql "SELECT 1" >/dev/null
post member /account/password "current_password=$PW" "new_password=$NEW"
is "the right current password and a good new one: 303" "$STATUS" 303
is "... back to /account" "$(header Location)" "/account"
new_member=$(token_of member)
check "... with a new session token for this browser" test -n "$new_member" -a "$new_member" != "$old_member"
get member /account
is "this browser stays signed in" "$STATUS" 200
check "... told what happened" sh -c "grep -q 'Your password was changed. Your other sessions (3) were signed out.' '$T/body'"
is "... and it is the only session left" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$U_MEMBER'")" "1"
check "... still listed as signed in since the sign-in (not a new session)" sh -c "grep -c 'this device' '$T/body' | grep -q 1"
get other /account
is "the other browser is signed out (303 to sign in)" "$STATUS" 303
get other /w/acme/settings/team
is "... everywhere" "$STATUS" 303
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "session=$old_member" "$BASE/account")
is "the old token of this very browser no longer works" "$STATUS" 303
new_hash=$(sql "SELECT password_hash FROM users WHERE id = '$U_MEMBER'")
check "the password hash changed" test "$new_hash" != "$old_hash"
is "... a bcrypt hash with the configured cost ($BCRYPT_COST)" "$(printf %s "$new_hash" | cut -c1-7)" "\$2b\$$(printf %02d "$BCRYPT_COST")\$"
login check member@example.com
is "the old password no longer signs in" "$STATUS" 401
login check member@example.com "$NEW"
is "the new one does" "$STATUS" 303
is "audit: the change is in the person's own stream, no password in it" \
	"$(sql "SELECT action, changes->>'other_sessions_ended', changes::text LIKE '%2026%' FROM account_audit_logs WHERE user_id = '$U_MEMBER' AND action = 'account.password_changed'")" \
	"account.password_changed|3|f"
is "... and no workspace audit row (the password is not workspace data)" \
	"$(sql "SELECT count(*) FROM audit_logs WHERE action LIKE 'account.%'")" "0"

# A new password that is 72 bytes of accented letters (36 characters) is fine.
post check /account/password "current_password=$NEW" "new_password=$(python3 -c 'print("é" * 36, end="")')"
is "36 accented characters (72 bytes): 303" "$STATUS" 303
login check2 member@example.com "$(python3 -c 'print("é" * 36, end="")')"
is "... and signs in" "$STATUS" 303

# Reset links still out there die with a password change.
sql "INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES ('$U_MEMBER', repeat('c', 64), now() + interval '1 hour')" >/dev/null
post check2 /account/password "current_password=$(python3 -c 'print("é" * 36, end="")')" "new_password=$NEW"
is "another change: 303" "$STATUS" 303
is "... and the live reset link is revoked" \
	"$(sql "SELECT revoked_at IS NOT NULL FROM password_reset_tokens WHERE token_hash = repeat('c', 64)")" "t"
