#!/bin/sh
# t013-valgrind.sh: one CGI request per executable under valgrind: no memory errors, no leaks.
. "$ROOT/tests/e2e/lib.sh"
command -v valgrind >/dev/null || { notok "valgrind is installed"; exit 0; }
chmod a+rwx "$T"
vg() { # vg NAME METHOD URI [body] [cookie]
	_b=${4:-}
	printf '%s' "$_b" | as_user env -i PATH="$PATH" REQUEST_METHOD="$2" REQUEST_URI="$3" \
		HTTP_HOST=example.test CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH="${#_b}" HTTP_COOKIE="${5:-}" DATABASE_URL="$(APP_URL)" \
		SETTINGS_TEMPLATES="$ROOT/templates" BCRYPT_COST=4 \
		SETTINGS_CREDENTIALS_KEYS="${SETTINGS_CREDENTIALS_KEYS:-k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}" \
		valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/bin/$1" >"$T/vg.out" 2>"$T/vg.err"
	_rc=$?
	if [ $_rc -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err"; then
		ok "valgrind-clean: $1 $2 $3"
	else
		notok "valgrind-clean: $1 $2 $3" "$(grep -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY' "$T/vg.err" | head -5)"
	fi
}
vg auth GET /login
vg auth POST /login 'csrf_token=x&email=demo%40example.com&password=wrong' 'csrf=x'
vg auth GET /healthz
session_token=$(printf 'vgsession%034d' 0 | head -c 43)
hash=$(printf %s "$session_token" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-vg', now() + interval '1 hour')" >/dev/null
for page in team billing integrations; do
	[ -x "$BUILD/bin/$page" ] && vg "$page" GET "/w/acme/settings/$page" "" "session=$session_token"
done
[ -x "$BUILD/bin/invite" ] && vg invite GET /invite/accept?token=dev-invite-token-pending-example-com
