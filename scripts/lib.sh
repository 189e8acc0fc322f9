# lib.sh: shared shell functions: the local PostgreSQL cluster and the running stack.
# Sourced by run.sh, db.sh, bench.sh and the tests. Honours VAR, PORT, PGPORT.

ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
VAR=${VAR:-$ROOT/var}
PORT=${PORT:-8080}
PGPORT=${PGPORT:-5433}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RUNUSER_NAME=${SETTINGS_RUN_USER:-settings}
PAGES="auth invite team billing integrations general apikeys audit account password"
# Long-running workers without a socket (started and stopped with the pages).
WORKERS="delivery"
BUILD=${BUILD:-$ROOT/build}

# PostgreSQL (and, for symmetry, the app and nginx) refuse or should not run
# as root: as root we run them as an unprivileged system user.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		# setpriv execs in place: the pid we record is the program's own.
		setpriv --reuid="$RUNUSER_NAME" --regid="$RUNUSER_NAME" --init-groups "$@"
	else
		"$@"
	fi
}

# spawn_bg PIDFILE LOG CMD...: start CMD in the background as the run user;
# PIDFILE receives CMD's own pid (not a wrapper's), so kill reaches it.
spawn_bg() {
	pidfile=$1 log=$2
	shift 2
	# A plain command (not the as_user function) in the background: the shell
	# execs it directly, so no subshell stays behind holding the caller's
	# descriptors (a test's output pipe) until the program ends.
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$RUNUSER_NAME" --regid="$RUNUSER_NAME" --init-groups \
			sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
	else
		sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
	fi
	i=0; while [ ! -s "$pidfile" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
}

ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	id "$RUNUSER_NAME" >/dev/null 2>&1 ||
		useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$RUNUSER_NAME"
}

prepare_var() {
	ensure_user
	mkdir -p "$VAR"
	VAR=$(cd "$VAR" && pwd)
	mkdir -p "$VAR/run" "$VAR/log" "$VAR/nginx"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$RUNUSER_NAME" "$VAR"
		# The unprivileged user must be able to reach VAR and the build.
		d=$VAR
		while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
		d=$ROOT
		while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
	fi
}

PGDATA_DIR() { echo "$VAR/pg"; }
SUPER_URL() { echo "host=$VAR/run port=$PGPORT dbname=${1:-settings} user=postgres"; }
OWNER_URL() { echo "host=$VAR/run port=$PGPORT dbname=settings user=settings_owner"; }
APP_URL() { echo "host=$VAR/run port=$PGPORT dbname=settings user=settings_app"; }

psql_super() { as_user psql -X -q -v ON_ERROR_STOP=1 "$(SUPER_URL)" "$@"; }
psql_postgres() { as_user psql -X -q -v ON_ERROR_STOP=1 "$(SUPER_URL postgres)" "$@"; }

# Create the cluster once; start it; create roles, database; migrate; seed once.
# With the argument "cluster", only the cluster, roles and database.
pg_start() {
	prepare_var
	if [ ! -f "$VAR/pg/PG_VERSION" ]; then
		as_user "$PGBIN/initdb" -D "$VAR/pg" -U postgres -A trust -E UTF8 \
			--locale=C.UTF-8 >"$VAR/log/initdb.log"
		cat >>"$VAR/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$VAR/run'
max_connections = 200
shared_buffers = 128MB
fsync = ${PG_FSYNC:-on}
log_min_messages = warning
CONF
		# Development only: local connections without a password (SPEC section 2).
		cat >"$VAR/pg/pg_hba.conf" <<CONF
local all all trust
host all all 127.0.0.1/32 trust
CONF
	fi
	if ! as_user "$PGBIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
		as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -o "-p $PGPORT" -l "$VAR/log/postgresql.log" \
			-w -t 60 start >/dev/null
	fi
	psql_postgres -f "$ROOT/sql/bootstrap.sql" >/dev/null
	if ! psql_postgres -tAc "SELECT 1 FROM pg_database WHERE datname='settings'" | grep -q 1; then
		as_user "$PGBIN/createdb" -h "$VAR/run" -p "$PGPORT" -U postgres -O settings_owner settings
	fi
	# "pg_start cluster": stop here (make migrate / rollback / psql decide the rest).
	[ "${1:-}" = cluster ] && return 0
	as_user env MIGRATE_URL="$(OWNER_URL)" sh "$ROOT/scripts/migrate.sh" up >/dev/null
	if [ "$(psql_super -tAc "SELECT count(*) FROM workspaces")" = "0" ]; then
		as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -1 -f "$ROOT/sql/seed/dev.sql" >/dev/null
		echo "loaded the development seed"
	fi
}

pg_stop() {
	if [ -f "$VAR/pg/postmaster.pid" ]; then
		as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# Development values when the operator has not set them.
dev_secrets() {
	: "${STRIPE_WEBHOOK_SECRET:=whsec_development_only_secret}"
	if [ -z "${SETTINGS_CREDENTIALS_KEYS:-}" ]; then
		if [ ! -f "$VAR/credentials.keys" ]; then
			( umask 077; printf 'dev1:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$VAR/credentials.keys" )
			if [ "$(id -u)" -eq 0 ]; then chown "$RUNUSER_NAME" "$VAR/credentials.keys"; fi
		fi
		SETTINGS_CREDENTIALS_KEYS=$(cat "$VAR/credentials.keys")
	fi
	export STRIPE_WEBHOOK_SECRET SETTINGS_CREDENTIALS_KEYS
}

# Start every built executable on its own socket, then nginx.
stack_start() {
	dev_secrets
	: "${DATABASE_URL:=$(APP_URL)}"
	export DATABASE_URL
	export SETTINGS_TEMPLATES="$ROOT/templates"
	export SETTINGS_BASE_URL="${SETTINGS_BASE_URL:-http://127.0.0.1:$PORT}"
	for p in $PAGES; do
		[ -x "$BUILD/bin/$p" ] || continue
		page_start "$p"
	done
	for w in $WORKERS; do
		[ -x "$BUILD/bin/$w" ] || continue
		worker_start "$w"
	done
	sed -e "s|@PORT@|$PORT|g" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@LOGIN_RATE@|${LOGIN_RATE:-5r/s}|g" \
		"$ROOT/nginx/settings.conf.in" >"$VAR/nginx/settings.conf"
	sed -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" \
		"$ROOT/nginx/nginx-dev.conf.in" >"$VAR/nginx/nginx.conf"
	if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/nginx"; fi
	as_user nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e "$VAR/log/nginx-error.log" \
		-g "pid $VAR/run/nginx.pid;"
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "the stack did not become healthy; see $VAR/log" >&2
			return 1
		fi
		sleep 0.1
	done
}

stack_stop() {
	if [ -f "$VAR/run/nginx.pid" ]; then
		kill "$(cat "$VAR/run/nginx.pid")" 2>/dev/null || true
		rm -f "$VAR/run/nginx.pid"
	fi
	for p in $PAGES $WORKERS health-check; do
		if [ -f "$VAR/run/$p.pid" ]; then
			kill "$(cat "$VAR/run/$p.pid")" 2>/dev/null || true
			rm -f "$VAR/run/$p.pid"
		fi
	done
	wait 2>/dev/null || true
}

# page_start PAGE [NAME=value...]: one executable on $VAR/run/PAGE.sock, with
# extra environment if given.
page_start() {
	_p=$1
	shift
	spawn_bg "$VAR/run/$_p.pid" "$VAR/log/$_p.log" env "$@" SETTINGS_SOCKET="$VAR/run/$_p.sock" \
		SETTINGS_SOCKET_MODE=0600 "$BUILD/bin/$_p"
}

# pid_alive PID: the process exists and is not a zombie (a dead child that
# nobody has reaped yet still answers kill -0).
pid_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# stack_supervise: start again every executable whose master has died (its
# workers leave on their own when it does). `make run` calls this twice a
# second; systemd does the same in production (Restart=on-failure).
stack_supervise() {
	for _s in $PAGES; do
		[ -x "$BUILD/bin/$_s" ] && [ -f "$VAR/run/$_s.pid" ] || continue
		_pid=$(cat "$VAR/run/$_s.pid" 2>/dev/null)
		[ -n "$_pid" ] && pid_alive "$_pid" && continue
		echo "$(date -u '+%F %T') $_s (pid ${_pid:-?}) is gone; starting it again" >&2
		rm -f "$VAR/run/$_s.pid"
		page_start "$_s"
	done
	for _s in $WORKERS; do
		[ -x "$BUILD/bin/$_s" ] && [ -f "$VAR/run/$_s.pid" ] || continue
		_pid=$(cat "$VAR/run/$_s.pid" 2>/dev/null)
		[ -n "$_pid" ] && pid_alive "$_pid" && continue
		echo "$(date -u '+%F %T') $_s (pid ${_pid:-?}) is gone; starting it again" >&2
		rm -f "$VAR/run/$_s.pid"
		worker_start "$_s"
	done
}

# worker_start NAME [NAME=value...]: a long-running worker (the delivery
# worker) with extra environment if given; worker_stop NAME stops it and
# waits until it is gone.
worker_start() {
	_w=$1
	shift
	spawn_bg "$VAR/run/$_w.pid" "$VAR/log/$_w.log" env "$@" "$BUILD/bin/$_w"
}
worker_stop() {
	if [ -f "$VAR/run/$1.pid" ]; then
		_wp=$(cat "$VAR/run/$1.pid")
		kill "$_wp" 2>/dev/null || true
		_i=0; while kill -0 "$_wp" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
		rm -f "$VAR/run/$1.pid"
	fi
}

# health_check_start: `delivery --check-health` now and every HEALTH_CHECK_SECONDS
# (default 300) in the background, logging to $VAR/log/health-check.log (make run).
health_check_start() {
	[ -x "$BUILD/bin/delivery" ] || return 0
	spawn_bg "$VAR/run/health-check.pid" "$VAR/log/health-check.log" sh -c \
		'while :; do "$0" --check-health; sleep "$1"; done' \
		"$BUILD/bin/delivery" "${HEALTH_CHECK_SECONDS:-300}"
}

# page_restart PAGE [NAME=value...]: restart one executable of the running stack
# with extra environment (the benchmarks compare SETTINGS_DB_STATEMENTS, say).
page_restart() {
	_r=$1
	if [ -f "$VAR/run/$_r.pid" ]; then kill "$(cat "$VAR/run/$_r.pid")" 2>/dev/null || true; fi
	_i=0; while [ -e "$VAR/run/$_r.sock" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	rm -f "$VAR/run/$_r.pid"
	page_start "$@"
	_i=0; while [ ! -S "$VAR/run/$_r.sock" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
}

# Benchmark yardsticks. capture_page NAME URL [curl args...]: the answer's body in
# $VAR/static/NAME.html and its header lines as the executable wrote them (without
# what nginx adds) in $VAR/static/NAME.headers. yardstick_start NAME: a bare
# FastCGI page (tests/bench/baseline.c: one prepared query, then those very bytes)
# on $VAR/run/yard-NAME.sock, with as many processes as the pages have workers.
capture_page() {
	_n=$1 _u=$2
	shift 2
	mkdir -p "$VAR/static"
	curl -sS -D "$VAR/static/$_n.raw" -o "$VAR/static/$_n.html" "$@" "$_u"
	tr -d '\r' <"$VAR/static/$_n.raw" | sed 1d |
		grep -Eiv '^(Server|Date|Connection|Transfer-Encoding):|^$' | sed 's/$/\r/' \
		>"$VAR/static/$_n.headers"
	if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/static"; fi
}
yardstick_start() {
	if [ ! -x "$VAR/baseline" ]; then
		cc -O2 -o "$VAR/baseline" "$ROOT/tests/bench/baseline.c" \
			$(pkg-config --cflags --libs libpq) -lfcgi
	fi
	spawn_bg "$VAR/run/yard-$1.pid" "$VAR/log/yard-$1.log" env DATABASE_URL="$(APP_URL)" \
		"$VAR/baseline" "$VAR/run/yard-$1.sock" "$VAR/static/$1.html" "$VAR/static/$1.headers"
}
