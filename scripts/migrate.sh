#!/bin/sh
# Apply or roll back the SQL migrations in sql/ (NNN_name.up.sql and
# NNN_name.down.sql).
#
#   scripts/migrate.sh up [N]   apply every pending migration, in order
#                               (at most N of them when N is given)
#   scripts/migrate.sh down     roll back the last applied migration
#   scripts/migrate.sh status   list migrations and whether they are applied
#
# Environment:
#   MIGRATE_URL      libpq connection string of the owner role (required),
#                    e.g. "host=/path/to/socket dbname=settings user=settings_owner"
#   MIGRATIONS_DIR   directory of the migration files (default: ../sql beside
#                    this script)
#   PSQL             psql to use (default: psql from PATH)
#
# Each migration file runs in one transaction together with the insert (or
# delete) of its row in schema_migrations, so a failing migration leaves
# nothing behind and is not recorded. Exits non-zero on any failure.

set -eu

# Byte order for globbing (migration order) and plain messages.
LC_ALL=C
export LC_ALL

prog=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
dir=${MIGRATIONS_DIR:-"$here/../sql"}
psql_bin=${PSQL:-psql}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s up [N] | down | status\n' "$prog" >&2
    exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift

[ -n "${MIGRATE_URL:-}" ] || die "MIGRATE_URL is not set (libpq connection string for the owner role)"
[ -d "$dir" ] || die "no migrations directory: $dir"

# psql with fixed, predictable settings: no psqlrc, stop at the first error,
# quiet, no notices on the terminal.
run_psql() {
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
        "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$MIGRATE_URL" "$@"
}

query() {
    run_psql -At -c "$1"
}

# Versions are file names without the .up.sql suffix: NNN_name.
valid_version() {
    printf '%s\n' "$1" | grep -Eq '^[0-9]{3}_[A-Za-z0-9_]+$'
}

# Every NNN_name of an up file, in order (glob expansion is sorted).
check_files() {
    for f in "$dir"/[0-9][0-9][0-9]_*.up.sql; do
        [ -e "$f" ] || continue
        valid_version "$(basename "$f" .up.sql)" || die "bad migration file name: $f"
    done
}

list_versions() {
    for f in "$dir"/[0-9][0-9][0-9]_*.up.sql; do
        [ -e "$f" ] || continue
        printf '%s\n' "$(basename "$f" .up.sql)"
    done
}

ensure_table() {
    query "CREATE TABLE IF NOT EXISTS schema_migrations (
               version text PRIMARY KEY,
               applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null \
        || die "cannot reach the database or create schema_migrations"
}

applied_versions() {
    query "SELECT version FROM schema_migrations ORDER BY version"
}

is_applied() {
    printf '%s\n' "$applied" | grep -qx "$1"
}

cmd_up() {
    limit=${1:-}
    if [ -n "$limit" ]; then
        printf '%s\n' "$limit" | grep -Eq '^[0-9]+$' || usage
    fi
    ensure_table
    applied=$(applied_versions)
    versions=$(list_versions)
    done_count=0
    for v in $versions; do
        is_applied "$v" && continue
        if [ -n "$limit" ] && [ "$done_count" -ge "$limit" ]; then
            break
        fi
        if run_psql --single-transaction \
            -f "$dir/$v.up.sql" \
            -c "INSERT INTO schema_migrations (version) VALUES ('$v')"; then
            printf 'applied %s\n' "$v"
        else
            printf 'FAILED  %s (rolled back)\n' "$v" >&2
            exit 1
        fi
        done_count=$((done_count + 1))
    done
    if [ "$done_count" -eq 0 ]; then
        printf 'nothing to apply\n'
    fi
}

cmd_down() {
    [ $# -eq 0 ] || usage
    ensure_table
    v=$(query "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1")
    if [ -z "$v" ]; then
        printf 'nothing to roll back\n'
        return 0
    fi
    valid_version "$v" || die "unexpected version in schema_migrations: $v"
    f="$dir/$v.down.sql"
    [ -f "$f" ] || die "no down script for $v: $f"
    if run_psql --single-transaction \
        -f "$f" \
        -c "DELETE FROM schema_migrations WHERE version = '$v'"; then
        printf 'reverted %s\n' "$v"
    else
        printf 'FAILED  %s (rolled back)\n' "$v" >&2
        exit 1
    fi
}

cmd_status() {
    [ $# -eq 0 ] || usage
    ensure_table
    applied=$(applied_versions)
    versions=$(list_versions)
    for v in $versions; do
        if is_applied "$v"; then
            at=$(query "SELECT to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ')
                          FROM schema_migrations WHERE version = '$v'")
            printf 'applied  %s  (%s)\n' "$v" "$at"
        else
            printf 'pending  %s\n' "$v"
        fi
    done
    # Recorded versions whose files are gone.
    for v in $applied; do
        printf '%s\n' "$versions" | grep -qx "$v" || printf 'missing  %s  (applied, no file)\n' "$v"
    done
}

check_files

case $cmd in
    up)     cmd_up "$@" ;;
    down)   cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    *)      usage ;;
esac
