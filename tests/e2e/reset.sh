#!/bin/sh
# reset.sh: put the test database back to the freshly seeded state.
set -eu
. "$ROOT/scripts/lib.sh"
psql_super <<SQL
TRUNCATE workspaces, users, sessions, login_attempts, stripe_events CASCADE;
TRUNCATE password_reset_requests;
SQL
as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -1 -f "$ROOT/sql/seed/dev.sql"
