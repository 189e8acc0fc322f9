#!/bin/sh
# run.sh: the shared-hosting suite. Starts a throwaway cluster and a private Apache
# httpd (Debian's apache2, mod_cgid) serving the executables as plain CGI, with
# apache/settings.conf.in on $APACHE_PORT and apache/htaccess.in (a document root
# with .htaccess only) on $APACHE_PORT + 1; then runs tests/apache/t*.sh and a
# representative set of the end-to-end tests through it.
#
# Reuse the stack for other suites: `sh tests/apache/run.sh CMD [ARG...]` starts it,
# runs CMD with these in its environment, and stops it afterwards:
#   BASE=http://127.0.0.1:$APACHE_PORT   the site configuration (PORT=$APACHE_PORT)
#   HTACCESS_BASE=http://127.0.0.1:$((APACHE_PORT + 1))   the .htaccess host
#   VAR, PGPORT, ROOT: the cluster (scripts/lib.sh psql_super etc. work as usual)
# Ports: APACHE_PORT (default 18180), E2E_PGPORT (default 15433); E2E_KEEP=1 keeps VAR.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${E2E_VAR:-$(mktemp -d /tmp/settings-apache.XXXXXX)}
export APACHE_PORT=${APACHE_PORT:-18180}
export PORT=$APACHE_PORT
export PGPORT=${E2E_PGPORT:-15433}
export PG_FSYNC=off
export BCRYPT_COST=${BCRYPT_COST:-11}
# shellcheck source=../../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=../../scripts/apache.sh
. "$ROOT/scripts/apache.sh"
# The end-to-end tests run through Apache too (they are written against any base URL).
E2E_TESTS=${APACHE_E2E_TESTS:-"t020-signin
t450-integrations-actions"}

cleanup() {
	apache_stop
	pg_stop
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

prepare_var
mkdir -p "$VAR/apache" "$VAR/mail"
cat >"$VAR/apache/env.extra" <<CONF
SetEnv SETTINGS_SENDMAIL "$ROOT/tests/e2e/fake-sendmail.sh"
SetEnv SETTINGS_ALLOW_PRIVATE_WEBHOOKS 1
SetEnv BCRYPT_COST $BCRYPT_COST
SetEnv VAR "$VAR"
CONF
if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR"; fi
if ! pg_start >"$VAR.start.log" 2>&1 || ! apache_start >>"$VAR.start.log" 2>&1; then
	cat "$VAR.start.log"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f "$VAR.start.log"
export BASE="http://127.0.0.1:$APACHE_PORT" HTACCESS_BASE="http://127.0.0.1:$((APACHE_PORT + 1))"

if [ $# -gt 0 ]; then
	"$@"
	exit $?
fi

pass=0; fail=0
for t in "$HERE"/t*.sh $(for e in $E2E_TESTS; do echo "$ROOT/tests/e2e/$e.sh"; done); do
	[ -f "$t" ] || continue
	[ -n "${E2E_ONLY:-}" ] && case "$t" in *"$E2E_ONLY"*) ;; *) continue ;; esac
	echo "-- $(basename "$t")"
	sh "$ROOT/tests/e2e/reset.sh" >/dev/null 2>&1 || echo "reset failed"
	out=$(ROOT=$ROOT VAR=$VAR PORT=$PORT PGPORT=$PGPORT sh "$t" 2>&1)
	printf '%s\n' "$out" | grep -E '^(ok|not ok|#)' | grep -v '^ok' || true
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok')
	echo "   $p passed, $f failed"
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   (ran no assertion)"; printf '%s\n' "$out" | tail -5; fi
	pass=$((pass + p)); fail=$((fail + f))
done
if [ "$fail" -gt 0 ]; then echo "# apache error log (tail):"; tail -n 15 "$VAR"/log/apache-error.log; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
