#!/bin/sh
# t012-cgi.sh: the same executable answers one request as a plain CGI program.
. "$ROOT/tests/e2e/lib.sh"

cgi() { # cgi METHOD URI [body] [cookie]: run auth as CGI, output in $T/cgi
	printf '%s' "${3:-}" | as_user env -i PATH="$PATH" REQUEST_METHOD="$1" REQUEST_URI="$2" \
		GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.9 HTTP_HOST=example.test \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH="${#3}" \
		HTTP_COOKIE="${4:-}" DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" \
		BCRYPT_COST=4 "$BUILD/bin/auth" >"$T/cgi" 2>"$T/cgi.err"
}
cgi GET /healthz
check "CGI: healthz answers with a Status line" grep -q '^Status: 200 OK' "$T/cgi"
check "CGI: the body is ok" grep -q '^ok' "$T/cgi"
cgi GET /login
check "CGI: the sign-in page renders" grep -q '<h1>Sign in</h1>' "$T/cgi"
check "CGI: security headers are sent" grep -qi '^Content-Security-Policy:' "$T/cgi"
csrf=$(sed -n 's/^Set-Cookie: csrf=\([^;]*\);.*/\1/p' "$T/cgi" | tr -d '\r')
check "CGI: a pre-session CSRF cookie is set" test -n "$csrf"
cgi POST /login "csrf_token=$csrf&email=demo%40example.com&password=demo-password" "csrf=$csrf"
check "CGI: signing in works (303 to the team page)" grep -q '^Status: 303' "$T/cgi"
check "CGI: a session cookie is issued" grep -q '^Set-Cookie: session=' "$T/cgi"
cgi POST /login "email=demo%40example.com&password=demo-password" "csrf=$csrf"
check "CGI: a POST without its CSRF token is refused" grep -q '^Status: 403' "$T/cgi"
check "CGI: one log line per request with a request id" grep -qE '^\[[0-9a-f]{12}\] POST /login 403 [0-9]+ms$' "$T/cgi.err"

# Start-up refuses a broken template, naming file and line.
mkdir -p "$T/tpl" && cp "$ROOT"/templates/*.tmpl "$T/tpl/" && chmod -R a+rX "$T"
printf '<TMPL_INCLUDE name="layout_head.tmpl">\n<TMPL_IF name="x">\nunclosed\n' >"$T/tpl/login.tmpl"
as_user env -i PATH="$PATH" REQUEST_METHOD=GET REQUEST_URI=/login DATABASE_URL="$(APP_URL)" \
	SETTINGS_TEMPLATES="$T/tpl" "$BUILD/bin/auth" >"$T/cgi" 2>"$T/cgi.err"
rc=$?
check "a malformed template stops start-up" test "$rc" -ne 0
check "... with file:line: message" grep -q 'login.tmpl:2: ' "$T/cgi.err"
check "... before answering anything" test ! -s "$T/cgi"

# Start-up refuses a database role that could bypass row-level security.
as_user env -i PATH="$PATH" REQUEST_METHOD=GET REQUEST_URI=/healthz \
	DATABASE_URL="$(OWNER_URL)" SETTINGS_TEMPLATES="$ROOT/templates" BCRYPT_COST=4 \
	"$BUILD/bin/auth" >"$T/cgi" 2>"$T/cgi.err"
check "connecting as the table owner is refused" grep -q 'refusing to run' "$T/cgi.err"
check "... and no page is served with it" sh -c "! grep -q '^Status: 200' '$T/cgi'"

# Linked with the static libpq (the default where its archives are installed), an
# executable loads no Kerberos, LDAP or GnuTLS library at start; libpq's GSSAPI and LDAP
# paths load theirs when taken (cgi/pq_lazy.c), and work as with libpq.so.
if ! ldd "$BUILD/bin/auth" | grep -q 'libpq\.so'; then
	check "static libpq: no Kerberos, LDAP or GnuTLS library among the executable's" \
		sh -c "! ldd '$BUILD/bin/auth' | grep -qE 'libgssapi|libkrb5|libldap|libgnutls|libsasl'"
	mkdir -p "$T/ld" && chmod 0777 "$T/ld"
	TCP="host=127.0.0.1 port=$PGPORT dbname=settings user=settings_app"
	lazy() { # lazy NAME DATABASE_URL [VAR=value...]: healthz as CGI, the loader's log in $T/ld/NAME.*
		_n=$1 _u=$2; shift 2
		as_user env -i PATH="$PATH" REQUEST_METHOD=GET REQUEST_URI=/healthz DATABASE_URL="$_u" \
			SETTINGS_TEMPLATES="$ROOT/templates" LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld/$_n" "$@" \
			"$BUILD/bin/auth" >"$T/cgi" 2>"$T/cgi.err"
	}
	lazy tcp "$TCP"
	check "over TCP, by default: healthz answers" grep -q '^Status: 200' "$T/cgi"
	check "... without loading Kerberos (GSSAPI encryption is off unless asked for)" \
		sh -c "! cat '$T'/ld/tcp.* | grep -q 'file=libgssapi_krb5'"
	lazy gss "$TCP gssencmode=prefer"
	check "gssencmode=prefer over TCP: healthz answers" grep -q '^Status: 200' "$T/cgi"
	check "... having loaded the Kerberos library on demand to look for credentials" \
		sh -c "cat '$T'/ld/gss.* | grep -q 'file=libgssapi_krb5.so.2 .*dynamically loaded'"
	lazy gssreq "$TCP gssencmode=require"
	check "gssencmode=require with no credentials: the 503 page, libpq's reason in the log" \
		sh -c "grep -q '^Status: 503' '$T/cgi' && grep -q 'GSSAPI encryption required' '$T/cgi.err'"
	printf '[dir]\nldap://127.0.0.1:9/dc=example?uri?one?(cn=settings)\n' >"$T/ld/pg_service.conf"
	chmod 0644 "$T/ld/pg_service.conf"
	lazy ldap "service=dir" PGSERVICEFILE="$T/ld/pg_service.conf"
	check "a service looked up in LDAP (no server answers): the 503 page, not a crash" \
		grep -q '^Status: 503' "$T/cgi"
	check "... having loaded the LDAP library on demand" \
		sh -c "cat '$T'/ld/ldap.* | grep -q 'file=libldap-2.5.so.0 .*dynamically loaded'"
fi
