#!/bin/sh
# t207-team-valgrind.sh: the team executable's pages and actions as CGI under valgrind: no memory errors, no leaks.
. "$ROOT/tests/e2e/lib.sh"
command -v valgrind >/dev/null || { notok "valgrind is installed"; exit 0; }
chmod a+rwx "$T"

M_MEMBER=10000000-0000-0000-0000-000000000003
M_PENDING=10000000-0000-0000-0000-000000000005
TEAM=/w/acme/settings/team
session=$(printf 'vgteam%037d' 0 | head -c 43)
hash=$(printf %s "$session" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
     VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-vg', now() + interval '1 hour')" >/dev/null

vg() { # vg METHOD URI [body] [extra cookie]
	_b=${3:-}
	printf '%s' "$_b" | as_user env -i PATH="$PATH" REQUEST_METHOD="$1" REQUEST_URI="$2" \
		HTTP_HOST=example.test CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH="${#_b}" HTTP_COOKIE="session=$session${4:+; $4}" DATABASE_URL="$(APP_URL)" \
		SETTINGS_TEMPLATES="$ROOT/templates" SETTINGS_BASE_URL=http://example.test \
		SETTINGS_SENDMAIL="$ROOT/tests/e2e/fake-sendmail.sh" VAR="$T" \
		valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/bin/team" >"$T/vg.out" 2>"$T/vg.err"
	_rc=$?
	if [ $_rc -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err"; then
		ok "valgrind-clean: $1 $2 ($(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/vg.out" | tr -d '\r'))"
	else
		notok "valgrind-clean: $1 $2" "$(grep -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY' "$T/vg.err" | head -5)"
	fi
}
vg GET "$TEAM?q=member&page=1"
vg POST "$TEAM/invite" "csrf_token=csrf-vg&email=vg%40example.com&role=member"
check "the invitation went through (303)" grep -q '^Status: 303' "$T/vg.out"
cookie=$(sed -n 's/^Set-Cookie: \(team_invite=[^;]*\);.*/\1/p' "$T/vg.out" | tr -d '\r')
vg GET "$TEAM" "" "$cookie"
check "the page showed the one-time link" grep -q 'invite/accept?token=' "$T/vg.out"
vg POST "$TEAM/invite" "csrf_token=csrf-vg&email=not-an-email&role=nope"
check "bad input was a 422" grep -q '^Status: 422' "$T/vg.out"
vg GET "$TEAM/$M_MEMBER/remove"
vg POST "$TEAM/$M_MEMBER/role" "csrf_token=csrf-vg&role=viewer"
check "a demotion asked for confirmation (200)" grep -q '^Status: 200' "$T/vg.out"
vg POST "$TEAM/$M_MEMBER/role" "csrf_token=csrf-vg&role=viewer&confirm=1"
vg POST "$TEAM/$M_PENDING/resend" "csrf_token=csrf-vg"
vg POST "$TEAM/10000000-0000-0000-0000-000000000001/deactivate" "csrf_token=csrf-vg&confirm=1"
check "the last owner was refused (409)" grep -q '^Status: 409' "$T/vg.out"
