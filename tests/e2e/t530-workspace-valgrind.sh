#!/bin/sh
# t530-workspace-valgrind.sh: general, apikeys and audit as plain CGI under valgrind (pages, refusals, a creation, the streamed CSV): no memory errors, no leaks.
. "$ROOT/tests/e2e/lib.sh"
command -v valgrind >/dev/null || { notok "valgrind is installed"; exit 0; }
chmod a+rwx "$T"
# vg EXECUTABLE DESCRIPTION METHOD URI [BODY]: one CGI request as the seeded owner; output in $T/vg.out.
vg() {
	_b=${5:-}
	printf '%s' "$_b" | as_user env -i PATH="$PATH" REQUEST_METHOD="$3" REQUEST_URI="$4" \
		HTTP_HOST=example.test CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH="${#_b}" HTTP_COOKIE="session=$token" REMOTE_ADDR=127.0.0.9 \
		DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" BCRYPT_COST=4 \
		valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/bin/$1" >"$T/vg.out" 2>"$T/vg.err"
	if [ $? -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err"; then
		ok "valgrind-clean: $1 $2"
	else
		notok "valgrind-clean: $1 $2" "$(grep -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY' "$T/vg.err" | head -5)"
	fi
}
token=$(printf 'vgworkspace%032d' 0 | head -c 43)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-vg', now() + interval '1 hour')" >/dev/null

vg general "the General page" GET /w/acme/settings/general
check "... 200" grep -q '^Status: 200' "$T/vg.out"
vg general "a rename with a control character (422)" POST /w/acme/settings/general "csrf_token=csrf-vg&name=a%0Ab"
check "... 422" grep -q '^Status: 422' "$T/vg.out"
vg general "a rename" POST /w/acme/settings/general "csrf_token=csrf-vg&name=Acme+Valgrind"
check "... 303" grep -q '^Status: 303' "$T/vg.out"
vg general "the delete confirmation, wrong password (422)" POST /w/acme/settings/general/delete "csrf_token=csrf-vg&slug=acme&password=nope&confirm=1"
check "... 422" grep -q '^Status: 422' "$T/vg.out"
vg general "the transfer confirmation" GET "/w/acme/settings/general/transfer?member_id=10000000-0000-0000-0000-000000000002"
check "... 200" grep -q '^Status: 200' "$T/vg.out"
vg apikeys "the API keys page" GET /w/acme/settings/api-keys
check "... 200" grep -q '^Status: 200' "$T/vg.out"
vg apikeys "a key created" POST /w/acme/settings/api-keys "csrf_token=csrf-vg&name=vg&expires_in_days=30"
check "... 303" grep -q '^Status: 303' "$T/vg.out"
vg apikeys "the revoke confirmation" GET /w/acme/settings/api-keys/40000000-0000-0000-0000-000000000001/revoke
check "... 200" grep -q '^Status: 200' "$T/vg.out"
vg audit "the audit log, filtered" GET "/w/acme/settings/audit?action=workspace.renamed&from=2020-01-01"
check "... 200, in words" grep -q 'renamed the workspace' "$T/vg.out"
vg audit "the CSV export, streamed" GET /w/acme/settings/audit.csv
check "... 200 without Content-Length, with the rows" sh -c "grep -q '^Status: 200' '$T/vg.out' && ! grep -qi '^Content-Length' '$T/vg.out' && grep -q '^time_utc,' '$T/vg.out' && grep -q 'workspace.renamed' '$T/vg.out'"
vg audit "a bad filter (422)" GET "/w/acme/settings/audit.csv?to=2026-02-30"
check "... 422" grep -q '^Status: 422' "$T/vg.out"
