#!/bin/sh
# t690-account-valgrind.sh: the account and password executables, one CGI request each
# (reads and writes) under valgrind: no memory errors, no leaks.
. "$ROOT/tests/e2e/lib.sh"
command -v valgrind >/dev/null || { notok "valgrind is installed"; exit 0; }
chmod a+rwx "$T"
vg() { # vg NAME METHOD URI [body] [cookie] [NAME=value...]
	_n=$1 _m=$2 _u=$3 _b=${4:-} _c=${5:-}
	if [ $# -ge 5 ]; then shift 5; else shift $#; fi
	printf '%s' "$_b" | as_user env -i PATH="$PATH" REQUEST_METHOD="$_m" REQUEST_URI="$_u" \
		HTTP_HOST=example.test CONTENT_TYPE=application/x-www-form-urlencoded REMOTE_ADDR=127.0.0.1 \
		CONTENT_LENGTH="${#_b}" HTTP_COOKIE="$_c" DATABASE_URL="$(APP_URL)" \
		SETTINGS_TEMPLATES="$ROOT/templates" BCRYPT_COST=4 "$@" \
		valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/bin/$_n" >"$T/vg.out" 2>"$T/vg.err"
	_rc=$?
	if [ $_rc -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err" &&
	   ! grep -q 'ERROR SUMMARY: [1-9]' "$T/vg.err"; then
		ok "valgrind-clean: $_n $_m $_u ($(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/vg.out" | head -1))"
	else
		notok "valgrind-clean: $_n $_m $_u" "$(grep -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY' "$T/vg.err" | head -5)"
	fi
}
token=$(printf 'vgaccount%034d' 0 | head -c 43)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent) VALUES ('$hash', '10000000-0000-0000-0000-000000000003', 'csrf-vg', now() + interval '1 hour', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')" >/dev/null
S="session=$token"
vg account GET /account "" "$S"
vg account POST /account/name "csrf_token=csrf-vg&full_name=Valgrind%20Member" "$S"
vg account POST /account/name "csrf_token=csrf-vg&full_name=%09" "$S"
vg account POST /account/password "csrf_token=csrf-vg&current_password=wrong&new_password=short" "$S"
vg account POST /account/password "csrf_token=csrf-vg&current_password=demo-password&new_password=a%20valgrind%20password" "$S"
is "the password changed under valgrind" "$(sql "SELECT count(*) FROM account_audit_logs WHERE action = 'account.password_changed'")" 1
newtok=$(sed -n 's/^Set-Cookie: session=\([^;]*\);.*/\1/p' "$T/vg.out" | tr -d '\r')
S="session=$newtok"
vg account POST /account/sessions/00000000-0000-0000-0000-000000000000/revoke "csrf_token=$(sql "SELECT csrf_token FROM sessions WHERE user_id = '10000000-0000-0000-0000-000000000003'")" "$S"
vg account POST /account/sessions/revoke-others "csrf_token=$(sql "SELECT csrf_token FROM sessions WHERE user_id = '10000000-0000-0000-0000-000000000003'")" "$S"
vg password GET /password/forgot
vg password POST /password/forgot "csrf_token=x&email=demo%40example.com" "csrf=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" SETTINGS_MAIL_LOG=1
vg password POST /password/forgot "csrf_token=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&email=demo%40example.com" "csrf=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" SETTINGS_MAIL_LOG=1
vg password POST /password/forgot "csrf_token=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&email=demo%40example.com" "csrf=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
rtok=$(printf 'vgreset%036d' 0 | head -c 43)
sql "INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES ('00000000-0000-0000-0000-000000000001', '$(printf %s "$rtok" | sha256sum | cut -d' ' -f1)', now() + interval '1 hour')" >/dev/null
vg password GET "/password/reset?token=$rtok"
vg password POST /password/reset "csrf_token=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&token=$rtok&new_password=short" "csrf=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
vg password POST /password/reset "csrf_token=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&token=$rtok&new_password=a%20valgrind%20password" "csrf=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
vg password GET "/password/reset?token=$rtok"
