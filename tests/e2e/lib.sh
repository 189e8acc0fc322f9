# lib.sh: helpers for end-to-end tests: curl through nginx, assertions, SQL.
# A test sources this, calls `check` and friends, and prints ok / not ok lines.
# Helpers keep their own variables under names starting with "_".
. "$ROOT/scripts/lib.sh"
BASE="http://127.0.0.1:$PORT"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { _d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$_d"; else notok "$_d" "$*"; fi; }
# is DESCRIPTION GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got '$2', want '$3'"; fi; }

# req JAR METHOD PATH [curl args...]: sets STATUS; body in $T/body, headers in $T/headers.
req() {
	_jar=$1; _m=$2; _p=$3; shift 3
	STATUS=$(curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$_m" \
		-b "$T/$_jar.jar" -c "$T/$_jar.jar" "$@" "$BASE$_p")
}
get() { req "$1" GET "$2"; }
# post JAR PATH field=value...: form POST carrying this jar's CSRF token.
post() {
	_jar=$1; _p=$2; shift 2
	_tok=$(csrf "$_jar")
	post_raw "$_jar" "$_p" "csrf_token=$_tok" "$@"
}
# post_raw JAR PATH field=value...: form POST exactly as given (no token added).
post_raw() {
	_jar=$1; _p=$2; shift 2
	_cnt=$#
	for _kv in "$@"; do set -- "$@" --data-urlencode "$_kv"; done
	shift "$_cnt"
	STATUS=$(curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -X POST \
		-b "$T/$_jar.jar" -c "$T/$_jar.jar" "$@" "$BASE$_p")
}
# csrf JAR: the token this browser's forms carry (session-bound once signed in).
csrf() {
	# /login shows the form, or (signed in) leads to a page whose sign-out form has it.
	curl -sSL -o "$T/csrfpage" -b "$T/$1.jar" -c "$T/$1.jar" "$BASE/login" >/dev/null
	sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/csrfpage" | head -1
}
# login JAR EMAIL [PASSWORD]: sign in; STATUS is the POST's status.
login() {
	get "$1" /login
	post "$1" /login "email=$2" "password=${3:-demo-password}"
}
header() { tr -d '\r' <"$T/headers" | sed -n "s/^$1: //Ip" | head -1; }
body_has() { grep -qF -- "$1" "$T/body"; }
sql() { psql_super -tAc "$1"; }
# tidy_ok: the last body is HTML without errors (warnings allowed).
tidy_ok() { tidy -q -e "$T/body" >/dev/null 2>&1; [ $? -lt 2 ]; }
# The one date style of every page ("1 December 2026", "8 December 2026, 14:05 UTC"):
# dates_in_words: the last body's text (tags and their attributes, such as datetime=
# and value=, left out) shows no ISO date (2026-12-01) and no "December 1, 2026".
# A time in words is in a <time datetime=...> element: words_date_shown.
_MONTHS='(January|February|March|April|May|June|July|August|September|October|November|December)'
dates_in_words() {
	sed 's/<[^>]*>//g' "$T/body" >"$T/text"
	! grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$T/text" && ! grep -Eq "$_MONTHS [0-9]{1,2},? [0-9]{4}" "$T/text"
}
words_date_shown() { grep -Eq "<time datetime=\"[0-9]{4}-[0-9]{2}-[0-9]{2}[^\"]*\">[0-9]{1,2} $_MONTHS [0-9]{4}" "$T/body"; }
