# pgbouncer.sh: a private PgBouncer (Debian's pgbouncer) in transaction pooling mode in
# front of the local cluster, for the tests and `make bench`. Sourced after lib.sh;
# honours VAR, PGPORT, PGB_PORT (default PGPORT + 1), PGB_POOL (server connections per
# user and database, default 4). PGB_URL() is the connection string the executables use
# through it; they must then run with SETTINGS_DB_STATEMENTS=unnamed (see README).
PGB_PORT=${PGB_PORT:-$((PGPORT + 1))}
PGB_URL() { echo "host=$VAR/pgb port=$PGB_PORT dbname=settings user=settings_app"; }

pgbouncer_start() {
	mkdir -p "$VAR/pgb"
	# Development only: trust, as the cluster itself (pg_hba.conf). In production use
	# auth_type = scram-sha-256 with auth_query or an auth_file of SCRAM secrets.
	printf '"settings_app" ""\n"postgres" ""\n' >"$VAR/pgb/users.txt"
	cat >"$VAR/pgb/pgbouncer.ini" <<CONF
[databases]
settings = host=$VAR/run port=$PGPORT dbname=settings

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $VAR/pgb
auth_type = trust
auth_file = $VAR/pgb/users.txt
pool_mode = transaction
default_pool_size = ${PGB_POOL:-4}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
admin_users = postgres
query_wait_timeout = 30
pidfile = $VAR/pgb/pgbouncer.pid
logfile = $VAR/log/pgbouncer.log
CONF
	if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/pgb"; fi
	as_user pgbouncer -d -q "$VAR/pgb/pgbouncer.ini"
	_i=0
	# Its admin console answers without a server connection (a query would wait for one).
	until as_user psql -X -q -tAc 'SHOW VERSION' \
		"host=$VAR/pgb port=$PGB_PORT dbname=pgbouncer user=postgres connect_timeout=2" >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ]; then
			echo "pgbouncer did not start; see $VAR/log/pgbouncer.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

pgbouncer_stop() {
	if [ -f "$VAR/pgb/pgbouncer.pid" ]; then
		kill "$(cat "$VAR/pgb/pgbouncer.pid")" 2>/dev/null || true
		_i=0
		while [ -f "$VAR/pgb/pgbouncer.pid" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	fi
}
