#!/bin/sh
# db.sh: `make migrate`, `make rollback`, `make psql`.
# Migrations run against MIGRATE_URL or DATABASE_URL when set (give the owning
# role there), otherwise against the local cluster under VAR (started if needed).
set -eu
. "$(dirname "$0")/lib.sh"

URL=${MIGRATE_URL:-${DATABASE_URL:-}}

migrate() {
	if [ -n "$URL" ]; then
		MIGRATE_URL=$URL sh "$ROOT/scripts/migrate.sh" "$1"
	else
		pg_start cluster >/dev/null
		as_user env MIGRATE_URL="$(OWNER_URL)" sh "$ROOT/scripts/migrate.sh" "$1"
	fi
}

case "${1:-}" in
migrate) migrate up ;;
rollback) migrate down ;;
psql)
	pg_start cluster >/dev/null
	as_user psql -X "$(SUPER_URL)" ;;
*) echo "usage: db.sh migrate|rollback|psql" >&2; exit 2 ;;
esac
