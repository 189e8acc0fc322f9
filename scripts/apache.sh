# apache.sh: a private Apache httpd (Debian's apache2) serving the executables as plain
# CGI, for the shared-hosting tests and `make bench`. Sourced after lib.sh; honours
# VAR, ROOT, BUILD, APACHE_PORT. apache_start serves, from the same running cluster:
#   http://127.0.0.1:$APACHE_PORT/        apache/settings.conf.in (the site configuration)
#   http://127.0.0.1:$((APACHE_PORT+1))/  apache/htaccess.in in a document root (.htaccess only)
# Extra environment for the executables: lines "SetEnv NAME value" in $VAR/apache/env.extra
# before apache_start (the tests' fake sendmail, a low bcrypt cost).
APACHE_PORT=${APACHE_PORT:-18180}
APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}

# fill FILE: the placeholders of apache/*.in for this stack.
apache_fill() {
	sed -e "s|@PORT@|$APACHE_PORT|g" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@BIN@|$BUILD/bin|g" -e "s|@TEMPLATES@|$ROOT/templates|g" \
		-e "s|@DATABASE_URL@|${DATABASE_URL:-$(APP_URL)}|g" \
		-e "s|@BASE_URL@|http://127.0.0.1:$APACHE_PORT|g" \
		-e "s|@CREDENTIALS_KEYS@|$SETTINGS_CREDENTIALS_KEYS|g" \
		-e "s|@STRIPE_WEBHOOK_SECRET@|$STRIPE_WEBHOOK_SECRET|g" "$1"
}

apache_start() {
	dev_secrets
	_a=$VAR/apache
	_h=$((APACHE_PORT + 1))
	mkdir -p "$_a/run" "$_a/htdocs/cgi-bin" "$VAR/log"
	touch "$_a/env.extra"
	apache_fill "$ROOT/apache/settings.conf.in" >"$_a/settings.conf"
	apache_fill "$ROOT/apache/httpd-dev.conf.in" |
		sed "s|@LISTEN_EXTRA@|Listen 127.0.0.1:$_h|" >"$_a/httpd.conf"
	# The .htaccess-only host: a document root with the executables as .cgi files.
	APACHE_PORT=$_h apache_fill "$ROOT/apache/htaccess.in" >"$_a/htdocs/.htaccess"
	cat "$_a/env.extra" >>"$_a/htdocs/.htaccess"
	for p in $PAGES; do
		[ -x "$BUILD/bin/$p" ] && cp "$BUILD/bin/$p" "$_a/htdocs/cgi-bin/$p.cgi"
	done
	rm -rf "$_a/htdocs/static" && cp -r "$ROOT/static" "$_a/htdocs/static"
	cat >"$_a/htaccess-host.extra" <<CONF
<VirtualHost *:$_h>
    ServerName localhost
    DocumentRoot "$_a/htdocs"
    <Directory "$_a/htdocs">
        AllowOverride FileInfo Options=ExecCGI,Indexes,SymLinksIfOwnerMatch,FollowSymLinks
        Require all granted
    </Directory>
</VirtualHost>
CONF
	if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$_a"; chmod -R go-w "$_a/htdocs"; fi
	for _p in "$APACHE_PORT" "$_h"; do
		if curl -s -o /dev/null "http://127.0.0.1:$_p/" 2>/dev/null; then
			echo "port $_p is already in use" >&2
			return 1
		fi
	done
	spawn_bg "$_a/run/fg.pid" "$VAR/log/apache-stdout.log" "$APACHE_BIN" -f "$_a/httpd.conf" \
		-DFOREGROUND
	_i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$APACHE_PORT/healthz" 2>/dev/null &&
		curl -fsS -o /dev/null "http://127.0.0.1:$_h/healthz" 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ]; then
			echo "apache did not serve /healthz; see $VAR/log/apache-error.log" >&2
			tail -20 "$VAR/log/apache-error.log" "$VAR/log/apache-stdout.log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
}

apache_stop() {
	if [ -f "$VAR/apache/run/fg.pid" ]; then
		kill "$(cat "$VAR/apache/run/fg.pid")" 2>/dev/null || true
		_i=0
		while [ -f "$VAR/apache/run/apache2.pid" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		rm -f "$VAR/apache/run/fg.pid"
	fi
}
