#!/bin/bash
# Database test: migrations, rollbacks, seed, row-level security, privileges
# and the SECURITY DEFINER functions, against a throwaway PostgreSQL 15
# cluster that is created here and removed on exit (also on failure).
#
#   scripts/dbtest.sh
#
# Environment:
#   PGBIN        PostgreSQL server binaries (default /usr/lib/postgresql/15/bin)
#   DBTEST_PORT  port number of the cluster (default 55440; unix socket only)
#   DBTEST_USER  unprivileged user that runs the cluster when this script
#                runs as root (default nobody)
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed";
# exits 0 only when every check passes.

set -u

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${DBTEST_PORT:-55440}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SQL="$ROOT/sql"
MIGRATE="$ROOT/scripts/migrate.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
DEMO=00000000-0000-0000-0000-000000000001

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    printf 'ok - %s\n' "$1"
}

not_ok() {
    failed=$((failed + 1))
    printf 'not ok - %s\n' "$1"
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'
    fi
}

finish() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    if [ "$failed" -eq 0 ]; then exit 0; else exit 1; fi
}

# ---------------------------------------------------------------------------
# Throwaway cluster
# ---------------------------------------------------------------------------
for b in initdb pg_ctl psql pg_dump createdb; do
    if [ ! -x "$PGBIN/$b" ]; then
        not_ok "PostgreSQL binaries present" "missing $PGBIN/$b"
        finish
    fi
done

WORK=$(mktemp -d /tmp/sqlwork-XXXXXX) || exit 1
DATA="$WORK/data"
runas=()
if [ "$(id -u)" -eq 0 ]; then
    pguser=${DBTEST_USER:-nobody}
    chown "$pguser" "$WORK" || exit 1
    runas=(runuser -u "$pguser" --)
fi

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
    if [ -f "$DATA/postmaster.pid" ]; then
        "${runas[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if ! out=$("${runas[@]}" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync --no-instructions 2>&1); then
    not_ok "initdb" "$out"
    finish
fi
if ! out=$("${runas[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 30 \
        -o "-p $PORT -k $WORK -c listen_addresses='' -c fsync=off" start 2>&1); then
    not_ok "cluster starts" "$out
$(cat "$WORK/server.log" 2>/dev/null)"
    finish
fi
ok "throwaway cluster started in $WORK"

SU="host=$WORK port=$PORT user=postgres dbname=postgres"
SUDB="host=$WORK port=$PORT user=postgres dbname=settings"
OWNER="host=$WORK port=$PORT user=settings_owner dbname=settings"
APP="host=$WORK port=$PORT user=settings_app dbname=settings"
export PGOPTIONS="-c client_min_messages=warning"
export PATH="$PGBIN:$PATH"

# psql CONN [args...]: quiet, tuples only, unaligned, stop at first error.
# Only SELECT output is printed (command tags are suppressed by -q).
q() {
    local conn=$1
    shift
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$conn" "$@"
}

# expect DESC CONN SQL EXPECTED: the output of SQL must equal EXPECTED.
expect() {
    local got
    got=$(q "$2" -c "$3" 2>&1)
    if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1" "expected: $4
got:      $got"; fi
}

# expect_script DESC CONN EXPECTED <<SQL: same with an SQL script on stdin.
expect_script() {
    local got
    got=$(q "$2" -f - 2>&1)
    if [ "$got" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $3
got:      $got"; fi
}

# expect_error DESC CONN PATTERN <<SQL: the script must fail with an error
# matching PATTERN (extended regex).
expect_error() {
    local got
    if got=$(q "$2" -f - 2>&1); then
        not_ok "$1" "succeeded, expected an error matching: $3
output: $got"
    elif printf '%s\n' "$got" | grep -Eq "$3"; then
        ok "$1"
    else
        not_ok "$1" "expected an error matching: $3
got: $got"
    fi
}

# run DESC CMD...: the command must succeed.
run() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "$out"; fi
}

migrate() {
    MIGRATE_URL="$OWNER" "$MIGRATE" "$@"
}

# Schema-only dump (with ownership and privileges); the random
# \restrict/\unrestrict key lines of recent pg_dump releases are dropped.
dump_schema() {
    "$PGBIN/pg_dump" -s -d "$SUDB" | grep -Ev '^\\(un)?restrict ' >"$1"
}

# ---------------------------------------------------------------------------
# Roles and database
# ---------------------------------------------------------------------------
run "bootstrap.sql runs as superuser" q "$SU" -f "$SQL/bootstrap.sql"
run "bootstrap.sql is idempotent (second run)" q "$SU" -f "$SQL/bootstrap.sql"
run "createdb -O settings_owner settings" \
    "$PGBIN/createdb" -h "$WORK" -p "$PORT" -U postgres -O settings_owner settings

expect "settings_app: LOGIN, not superuser, no BYPASSRLS, no CREATEROLE/CREATEDB" "$SU" \
    "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
       FROM pg_roles WHERE rolname = 'settings_app'" "t|f|f|f|f"
expect "settings_owner: LOGIN, not superuser" "$SU" \
    "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'settings_owner'" "t|f|f"

# ---------------------------------------------------------------------------
# Migrations one at a time, then every down must restore the schema exactly
# ---------------------------------------------------------------------------
versions=()
for f in "$SQL"/[0-9][0-9][0-9]_*.up.sql; do
    versions+=("$(basename "$f" .up.sql)")
done
n=${#versions[@]}
if [ "$n" -gt 0 ]; then ok "$n migrations found"; else not_ok "migrations found"; finish; fi

missing=""
for v in "${versions[@]}"; do
    [ -f "$SQL/$v.down.sql" ] || missing="$missing $v"
done
if [ -z "$missing" ]; then ok "every migration has a down script"; else not_ok "every migration has a down script" "missing:$missing"; fi

bad=$(grep -ilE '^[[:space:]]*(BEGIN|COMMIT|START TRANSACTION)[[:space:]]*;' "$SQL"/[0-9][0-9][0-9]_*.sql)
if [ -z "$bad" ]; then ok "migrations carry no BEGIN/COMMIT of their own"; else not_ok "migrations carry no BEGIN/COMMIT of their own" "$bad"; fi

if out=$(migrate status 2>&1) && [ "$(printf '%s\n' "$out" | grep -c '^pending')" -eq "$n" ]; then
    ok "status on a fresh database: all $n pending"
else
    not_ok "status on a fresh database: all $n pending" "$out"
fi

mkdir -p "$WORK/dumps"
dump_schema "$WORK/dumps/up-0.sql"
step_ok=1
for i in $(seq 1 "$n"); do
    v=${versions[$((i - 1))]}
    if out=$(migrate up 1 2>&1) && [ "$out" = "applied $v" ]; then
        ok "up $v"
    else
        not_ok "up $v" "$out"
        step_ok=0
        break
    fi
    dump_schema "$WORK/dumps/up-$i.sql"
done

if [ "$step_ok" -eq 1 ]; then
    for i in $(seq "$n" -1 1); do
        v=${versions[$((i - 1))]}
        if out=$(migrate down 2>&1) && [ "$out" = "reverted $v" ]; then
            dump_schema "$WORK/dumps/down-$((i - 1)).sql"
            if d=$(diff -u "$WORK/dumps/up-$((i - 1)).sql" "$WORK/dumps/down-$((i - 1)).sql"); then
                ok "down $v restores the schema exactly"
            else
                not_ok "down $v restores the schema exactly" "$d"
            fi
        else
            not_ok "down $v" "$out"
            break
        fi
    done
fi

if out=$(migrate down 2>&1) && [ "$out" = "nothing to roll back" ]; then ok "down with nothing applied is a no-op"; else not_ok "down with nothing applied is a no-op" "$out"; fi

if out=$(migrate up 2>&1) && [ "$(printf '%s\n' "$out" | grep -c '^applied ')" -eq "$n" ]; then
    ok "up applies all $n migrations"
else
    not_ok "up applies all $n migrations" "$out"
fi
dump_schema "$WORK/dumps/full-again.sql"
if d=$(diff -u "$WORK/dumps/up-$n.sql" "$WORK/dumps/full-again.sql"); then
    ok "up all gives the same schema as step-by-step up"
else
    not_ok "up all gives the same schema as step-by-step up" "$d"
fi
if out=$(migrate up 2>&1) && [ "$out" = "nothing to apply" ]; then ok "second up applies nothing"; else not_ok "second up applies nothing" "$out"; fi
if out=$(migrate status 2>&1) && [ "$(printf '%s\n' "$out" | grep -c '^applied ')" -eq "$n" ]; then ok "status: all applied"; else not_ok "status: all applied" "$out"; fi

# A failing migration leaves nothing behind and is not recorded.
mkdir -p "$WORK/badsql"
cp "$SQL"/[0-9][0-9][0-9]_*.sql "$WORK/badsql/"
cat > "$WORK/badsql/999_broken.up.sql" <<'EOF'
CREATE TABLE broken_probe (id integer);
SELECT 1 / 0;
EOF
echo 'DROP TABLE broken_probe;' > "$WORK/badsql/999_broken.down.sql"
if out=$(MIGRATIONS_DIR="$WORK/badsql" migrate up 2>&1); then
    not_ok "a failing migration makes up exit non-zero" "$out"
else
    ok "a failing migration makes up exit non-zero"
fi
expect "a failing migration is rolled back and not recorded" "$OWNER" \
    "SELECT to_regclass('public.broken_probe') IS NULL,
            (SELECT count(*) FROM schema_migrations WHERE version = '999_broken')" "t|0"

# ---------------------------------------------------------------------------
# Seed
# ---------------------------------------------------------------------------
run "seed loads in one transaction (psql -1 -f sql/seed/dev.sql)" q "$OWNER" -1 -f "$SQL/seed/dev.sql"

if out=$(q "$OWNER" -1 -f "$SQL/seed/dev.sql" 2>&1); then
    not_ok "loading the seed twice fails loudly (no silent ON CONFLICT)" "$out"
else
    ok "loading the seed twice fails loudly (no silent ON CONFLICT)"
fi
expect "7 users" "$OWNER" "SELECT count(*) FROM users" "7"
expect "2 workspaces (acme, globex)" "$OWNER" \
    "SELECT string_agg(slug, ',' ORDER BY slug) FROM workspaces" "acme,globex"
expect "Acme has 6 team_members rows (4 active, 1 pending, 1 inactive)" "$OWNER" \
    "SELECT count(*), count(*) FILTER (WHERE status = 'active'),
            count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'inactive')
       FROM team_members WHERE workspace_id = '$ACME'" "6|4|1|1"
expect "Acme roles: owner, admin, member, viewer active" "$OWNER" \
    "SELECT string_agg(u.email || ':' || tm.role, ',' ORDER BY u.email)
       FROM team_members tm JOIN users u ON u.id = tm.user_id
      WHERE tm.workspace_id = '$ACME' AND tm.status = 'active'" \
    "admin@example.com:admin,demo@example.com:owner,member@example.com:member,viewer@example.com:viewer"
expect "pending@example.com: own user, no password, not verified, pending member invitation" "$OWNER" \
    "SELECT u.password_hash IS NULL, u.is_verified, tm.role, tm.status,
            tm.invitation_expires_at > now() + interval '4 days'
       FROM team_members tm JOIN users u ON u.id = tm.user_id
      WHERE u.email = 'pending@example.com'" "t|f|member|pending|t"
expect "invitation_token is the SHA-256 hex of the development token" "$OWNER" \
    "SELECT invitation_token FROM team_members WHERE id = '10000000-0000-0000-0000-000000000005'" \
    "$(printf '%s' dev-invite-token-pending-example-com | sha256sum | cut -d' ' -f1)"
expect "former@example.com: own user, inactive member" "$OWNER" \
    "SELECT tm.status FROM team_members tm JOIN users u ON u.id = tm.user_id
      WHERE u.email = 'former@example.com'" "inactive"
expect "every password hash is bcrypt \$2b\$11\$ (NULL only for pending)" "$OWNER" \
    "SELECT count(*) FILTER (WHERE password_hash LIKE '\$2b\$11\$%' AND length(password_hash) = 60),
            count(*) FILTER (WHERE password_hash IS NULL)
       FROM users" "6|1"
expect "integrations: 4 for Acme, 1 for Globex (slack 'Globex Alerts')" "$OWNER" \
    "SELECT count(*) FILTER (WHERE workspace_id = '$ACME'),
            string_agg(integration_type || ':' || integration_name, ',') FILTER (WHERE workspace_id = '$GLOBEX')
       FROM integrations_config" "4|slack:Globex Alerts"
expect "3 active API keys for Acme" "$OWNER" \
    "SELECT count(*) FROM api_keys WHERE workspace_id = '$ACME' AND revoked_at IS NULL" "3"
expect "Acme billing: professional, 650000 traces, team_members_current=4, api_keys_current=3" "$OWNER" \
    "SELECT plan_type, traces_current_month, team_members_current, api_keys_current, stripe_customer_id
       FROM billing_config WHERE workspace_id = '$ACME'" "professional|650000|4|3|cus_test_abc123def456"
expect "Globex billing: starter with the catalog's limits, own Stripe ids" "$OWNER" \
    "SELECT b.plan_type, b.traces_per_month_limit = c.traces_per_month_limit
                         AND b.team_members_limit = c.team_members_limit
                         AND b.api_keys_limit = c.api_keys_limit
                         AND b.data_retention_days = c.data_retention_days
                         AND b.custom_integrations_limit = c.custom_integrations_limit,
            b.team_members_current, b.api_keys_current,
            b.stripe_customer_id <> 'cus_test_abc123def456'
       FROM billing_config b JOIN plan_catalog c USING (plan_type)
      WHERE b.workspace_id = '$GLOBEX'" "starter|t|1|0|t"
expect "Acme agents include customer_support and sales_agent" "$OWNER" \
    "SELECT count(*) FROM agents WHERE workspace_id = '$ACME'
        AND name IN ('customer_support', 'sales_agent')" "2"
expect "plan catalog as SPEC section 5" "$OWNER" \
    "SELECT string_agg(concat_ws(':', plan_type, coalesce(traces_per_month_limit::text, '-'),
                                 coalesce(team_members_limit::text, '-'), coalesce(api_keys_limit::text, '-'),
                                 data_retention_days, coalesce(custom_integrations_limit::text, '-'),
                                 coalesce(monthly_price_usd::text, '-'), coalesce(annual_price_usd::text, '-'),
                                 self_serve::text), ' ' ORDER BY sort_order)
       FROM plan_catalog" \
    "free:10000:3:2:14:0:0.00:0.00:true starter:100000:10:5:30:2:29.00:290.00:true professional:1000000:25:10:90:5:99.00:990.00:true enterprise:-:-:-:365:-:-:-:false"

# ---------------------------------------------------------------------------
# Ownership and privileges
# ---------------------------------------------------------------------------
expect "database settings is owned by settings_owner" "$SU" \
    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'settings'" "settings_owner"
expect "every relation and function in public (extension members aside) is owned by settings_owner" "$SUDB" \
    "SELECT (SELECT count(*) FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> 'settings_owner'::regrole
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                   AND d.objid = c.oid AND d.deptype = 'e'))
          + (SELECT count(*) FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'settings_owner'::regrole
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                   AND d.objid = p.oid AND d.deptype = 'e'))" "0"
expect "settings_app owns nothing (relations, functions, schemas, types)" "$SUDB" \
    "SELECT (SELECT count(*) FROM pg_class WHERE relowner = 'settings_app'::regrole)
          + (SELECT count(*) FROM pg_proc WHERE proowner = 'settings_app'::regrole)
          + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'settings_app'::regrole)
          + (SELECT count(*) FROM pg_type WHERE typowner = 'settings_app'::regrole)" "0"
expect "RLS enabled (not forced) on the 9 workspace-scoped tables, one policy each" "$SUDB" \
    "SELECT count(*) FILTER (WHERE c.relrowsecurity AND NOT c.relforcerowsecurity
                               AND (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) = 1)
       FROM pg_class c
      WHERE c.oid IN ('workspaces'::regclass, 'team_members'::regclass, 'billing_config'::regclass,
                      'integrations_config'::regclass, 'agents'::regclass, 'api_keys'::regclass,
                      'workspace_members'::regclass, 'audit_logs'::regclass, 'usage_history'::regclass)" "9"
expect "SECURITY DEFINER functions all pin search_path and are not executable by PUBLIC" "$SUDB" \
    "SELECT count(*) >= 8,
            count(*) FILTER (WHERE NOT 'search_path=public, pg_temp' = ANY (coalesce(proconfig, '{}'))),
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(proacl, acldefault('f', proowner))) a
                                            WHERE a.grantee = 0))
       FROM pg_proc WHERE prosecdef AND pronamespace = 'public'::regnamespace" "t|0|0"
expect "RLS enabled (not forced) on the delivery tables, one policy each (014)" "$SUDB" \
    "SELECT count(*) FILTER (WHERE c.relrowsecurity AND NOT c.relforcerowsecurity
                               AND (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) = 1)
       FROM pg_class c
      WHERE c.oid IN ('alert_events'::regclass, 'integration_deliveries'::regclass,
                      'integration_delivery_attempts'::regclass)" "3"
expect "settings_app reads the delivery log, queues deliveries, and writes alerts only through alert_enqueue" "$SUDB" \
    "SELECT has_table_privilege('settings_app', 'integration_deliveries', 'INSERT'),
            has_table_privilege('settings_app', 'integration_deliveries', 'UPDATE'),
            has_table_privilege('settings_app', 'alert_events', 'INSERT'),
            has_function_privilege('settings_app', 'alert_enqueue(uuid,text,text,text,text,text)', 'EXECUTE')" "t|f|f|t"
expect "settings_app may execute the five lookup functions" "$SUDB" \
    "SELECT bool_and(has_function_privilege('settings_app', f, 'EXECUTE'))
       FROM unnest(ARRAY['auth_login_lookup(text)', 'auth_session(text,text,integer)',
                         'auth_user_workspaces(uuid)', 'invitation_lookup(text)',
                         'billing_workspace_for_customer(text)']) f" "t"
expect "settings_app may not execute the counter functions" "$SUDB" \
    "SELECT has_function_privilege('settings_app', 'billing_refresh_usage_counts(uuid)', 'EXECUTE')" "f"

# ---------------------------------------------------------------------------
# 016: the delivery worker's batch functions
# ---------------------------------------------------------------------------
expect "settings_app may execute the batch delivery functions (016)" "$SUDB" \
    "SELECT bool_and(has_function_privilege('settings_app', f, 'EXECUTE'))
       FROM unnest(ARRAY['alert_fanout_batch(uuid[],uuid[],uuid[])',
                         'delivery_claim_batch(integer,integer,integer,integer)',
                         'delivery_lease_claim(uuid,integer)',
                         'delivery_record_batch(uuid,uuid[],boolean[],timestamptz[],integer[],integer[],text[],text[],text[],integer)']) f" "t"
# Three alerts fanned out to A (all three), B (two) and a Globex integration (refused:
# another workspace); one claim; recorded in one call, as settings_app: A fails,
# succeeds, fails; B, at 18 consecutive failures, fails twice and is disabled at 20 with
# one audit row. A second record under the same claim changes nothing. Rolled back.
expect_script "fan-out, claim and record in batches keep 014's rules (016)" "$SUDB" "5
5
5
0|f
1|degraded|1|2|t
20|unhealthy|f|t
1
1|4|5
0" <<EOF
BEGIN;
UPDATE integrations_config SET is_enabled = false;
INSERT INTO integrations_config (id, workspace_id, integration_type, integration_name, config_data, consecutive_failures, total_events_sent, total_errors)
VALUES ('10000000-0000-0000-0000-0000000000a1', '$ACME', 'webhook', 'Batch A', '{"url": "https://example.com/a"}', 0, 0, 0),
       ('10000000-0000-0000-0000-0000000000b1', '$ACME', 'webhook', 'Batch B', '{"url": "https://example.com/b"}', 18, 0, 0),
       ('10000000-0000-0000-0000-0000000000c1', '$GLOBEX', 'webhook', 'Batch G', '{"url": "https://example.com/g"}', 0, 0, 0);
CREATE TEMP TABLE al ON COMMIT DROP AS
SELECT n, alert_enqueue('$ACME', 'error_spike', 'error', NULL, 'T' || n, NULL) AS id FROM generate_series(1, 3) n;
GRANT SELECT ON al TO settings_app;
SET LOCAL ROLE settings_app;
SELECT alert_fanout_batch((SELECT array_agg(id) FROM al),
       (SELECT array_agg(id ORDER BY n) FROM al) || (SELECT array_agg(id ORDER BY n) FROM al WHERE n < 3) || (SELECT id FROM al WHERE n = 1),
       array_fill('10000000-0000-0000-0000-0000000000a1'::uuid, ARRAY[3]) || array_fill('10000000-0000-0000-0000-0000000000b1'::uuid, ARRAY[2])
         || '10000000-0000-0000-0000-0000000000c1'::uuid);
RESET ROLE;
CREATE TEMP TABLE c ON COMMIT DROP AS SELECT * FROM delivery_claim_batch(10, 30, 2, 40);
GRANT SELECT ON c TO settings_app;
SELECT count(*) FROM c;
SET LOCAL ROLE settings_app;
SELECT delivery_record_batch((SELECT claim_id FROM c LIMIT 1),
       array_agg(delivery_id ORDER BY integration_name, title),
       array_agg(integration_name = 'Batch A' AND title = 'T2' ORDER BY integration_name, title),
       array_agg(NULL::timestamptz ORDER BY integration_name, title),
       array_agg(CASE WHEN integration_name = 'Batch A' AND title = 'T2' THEN 200 ELSE 500 END ORDER BY integration_name, title),
       array_agg(5 ORDER BY integration_name, title),
       array_agg(CASE WHEN integration_name = 'Batch A' AND title = 'T2' THEN NULL ELSE 'Answered HTTP 500.' END ORDER BY integration_name, title),
       array_agg('POST ' || title ORDER BY integration_name, title),
       array_agg('answer'::text ORDER BY integration_name, title), 20)
  FROM c;
RESET ROLE;
SELECT count(*) FILTER (WHERE status = 'sending'), bool_or(claim_id IS NOT NULL)
  FROM integration_deliveries WHERE alert_id IN (SELECT id FROM al);
SELECT consecutive_failures, health_status, total_events_sent, total_errors, is_enabled
  FROM integrations_config WHERE id = '10000000-0000-0000-0000-0000000000a1';
SELECT consecutive_failures, health_status, is_enabled,
       disabled_reason = 'Disabled after 20 consecutive failed deliveries; the last: Answered HTTP 500.'
  FROM integrations_config WHERE id = '10000000-0000-0000-0000-0000000000b1';
SELECT count(*) FROM audit_logs WHERE action = 'integration.auto_disabled' AND resource_id = '10000000-0000-0000-0000-0000000000b1';
SELECT count(*) FILTER (WHERE d.status = 'delivered'), count(*) FILTER (WHERE d.status = 'failed'),
       (SELECT count(*) FROM integration_delivery_attempts a WHERE a.delivery_id IN (SELECT delivery_id FROM c))
  FROM integration_deliveries d WHERE d.alert_id IN (SELECT id FROM al);
SET LOCAL ROLE settings_app;
SELECT delivery_record_batch((SELECT claim_id FROM c LIMIT 1), (SELECT array_agg(delivery_id) FROM c),
       (SELECT array_agg(true) FROM c), NULL, NULL, NULL, NULL, NULL, NULL, 20);
ROLLBACK;
EOF

expect_error "settings_app cannot read users.password_hash" "$APP" 'permission denied' <<'EOF'
SELECT password_hash FROM users LIMIT 1;
EOF
expect "settings_app can read users (id, email, full_name)" "$APP" \
    "SELECT email, full_name FROM users WHERE id = '$DEMO'" "demo@example.com|Demo Owner"
expect_error "settings_app cannot delete audit_logs" "$APP" 'permission denied' <<EOF
SET app.current_workspace_id = '$ACME';
DELETE FROM audit_logs;
EOF
expect_error "settings_app cannot delete team_members (soft delete only)" "$APP" 'permission denied' <<EOF
SET app.current_workspace_id = '$ACME';
DELETE FROM team_members WHERE id = '10000000-0000-0000-0000-000000000006';
EOF
expect_error "settings_app cannot write plan_catalog" "$APP" 'permission denied' <<'EOF'
UPDATE plan_catalog SET monthly_price_usd = 1;
EOF
expect_error "settings_app cannot create tables in public" "$APP" 'permission denied' <<'EOF'
CREATE TABLE app_probe (id integer);
EOF

# ---------------------------------------------------------------------------
# Row-level security as settings_app
# ---------------------------------------------------------------------------
expect "no workspace set: settings_app sees no workspace rows" "$APP" \
    "SELECT (SELECT count(*) FROM team_members) + (SELECT count(*) FROM workspaces)
          + (SELECT count(*) FROM billing_config) + (SELECT count(*) FROM integrations_config)
          + (SELECT count(*) FROM api_keys) + (SELECT count(*) FROM agents)" "0"
expect_script "workspace = acme: SELECT count(*) FROM team_members sees only Acme's 6 rows" "$APP" "6" <<EOF
SET app.current_workspace_id = '$ACME';
SELECT count(*) FROM team_members;
EOF
expect_script "workspace = acme: 1 workspace, 1 billing row, 4 integrations, 3 API keys" "$APP" "acme|1|4|3" <<EOF
SET app.current_workspace_id = '$ACME';
SELECT (SELECT string_agg(slug, ',') FROM workspaces), (SELECT count(*) FROM billing_config),
       (SELECT count(*) FROM integrations_config), (SELECT count(*) FROM api_keys);
EOF
expect_script "workspace = globex: sees Globex's 1 member and 1 integration" "$APP" "1|1" <<EOF
SET app.current_workspace_id = '$GLOBEX';
SELECT (SELECT count(*) FROM team_members), (SELECT count(*) FROM integrations_config);
EOF
expect_error "workspace = acme: INSERT of a Globex team_members row is refused" "$APP" 'row-level security' <<EOF
SET app.current_workspace_id = '$ACME';
INSERT INTO team_members (workspace_id, user_id, role, status)
VALUES ('$GLOBEX', '$DEMO', 'viewer', 'active');
EOF
expect_error "workspace = acme: moving a row to Globex is refused" "$APP" 'row-level security' <<EOF
SET app.current_workspace_id = '$ACME';
UPDATE integrations_config SET workspace_id = '$GLOBEX' WHERE id = '30000000-0000-0000-0000-000000000001';
EOF
expect_script "workspace = acme: UPDATE/DELETE of Globex rows touch nothing" "$APP" "0|0" <<EOF
SET app.current_workspace_id = '$ACME';
WITH u AS (UPDATE integrations_config SET integration_name = 'x' WHERE workspace_id = '$GLOBEX' RETURNING 1),
     d AS (DELETE FROM integrations_config WHERE workspace_id = '$GLOBEX' RETURNING 1)
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM d);
EOF
expect_script "workspace = acme: audit_logs insert allowed for Acme" "$APP" "1" <<EOF
BEGIN;
SET LOCAL app.current_workspace_id = '$ACME';
INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, resource_id, changes)
VALUES ('$ACME', '$DEMO', 'team_member.role_changed', 'team_member',
        '10000000-0000-0000-0000-000000000003', '{"old_role": "member", "new_role": "admin"}');
SELECT count(*) FROM audit_logs;
ROLLBACK;
EOF

# ---------------------------------------------------------------------------
# Lookup functions as settings_app
# ---------------------------------------------------------------------------
TOKEN_HASH=$(printf '%s' 'dbtest-session-token' | sha256sum | cut -d' ' -f1)
OLD_HASH=$(printf '%s' 'dbtest-old-session' | sha256sum | cut -d' ' -f1)
EXP_HASH=$(printf '%s' 'dbtest-expired-session' | sha256sum | cut -d' ' -f1)
INV_HASH=$(printf '%s' dev-invite-token-pending-example-com | sha256sum | cut -d' ' -f1)

expect "auth_login_lookup: case-insensitive, returns the bcrypt hash" "$APP" \
    "SELECT user_id, left(password_hash, 7) FROM auth_login_lookup('Demo@Example.COM')" "$DEMO|\$2b\$11\$"
expect "auth_login_lookup: invited user has a NULL hash, unknown email no row" "$APP" \
    "SELECT (SELECT count(*) FROM auth_login_lookup('pending@example.com') WHERE password_hash IS NULL),
            (SELECT count(*) FROM auth_login_lookup('nobody@example.com'))" "1|0"

run "settings_app can create sessions" q "$APP" -c "
    INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at, user_agent, ip) VALUES
      ('$TOKEN_HASH', '$DEMO', 'csrf-token-value-0123456789', now() + interval '1 day', now() - interval '5 minutes', 'dbtest', '127.0.0.1'),
      ('$OLD_HASH',   '$DEMO', 'csrf-token-value-0123456789', now() + interval '1 day', now() - interval '3 hours', 'dbtest', '127.0.0.1'),
      ('$EXP_HASH',   '$DEMO', 'csrf-token-value-0123456789', now() - interval '1 second', now(), 'dbtest', '127.0.0.1')"

expect_script "auth_session(acme): session, user, workspace and owner role; context set for the transaction" "$APP" \
    "demo@example.com|Demo Owner|acme|Acme Corp|owner|$ACME|t
6" <<EOF
BEGIN;
SELECT user_email, user_name, workspace_slug, workspace_name, member_role, workspace_id, stamp_due
  FROM auth_session('$TOKEN_HASH', 'acme', 3600);
SELECT count(*) FROM team_members;
COMMIT;
EOF
expect "auth_session writes nothing: last_seen_at still 5 minutes old" "$OWNER" \
    "SELECT s.last_seen_at < now() - interval '4 minutes' FROM sessions s WHERE s.token_hash = '$TOKEN_HASH'" "t"
expect "auth_session: the switcher's lines" "$APP" \
    "SELECT replace(workspaces, E'\\t', ':') FROM auth_session('$TOKEN_HASH', 'acme', 3600)" "acme:Acme Corp:owner"
run "auth_session_touch stamps the session and the membership" q "$APP" -c "
    SELECT auth_session_touch(s.id, '10000000-0000-0000-0000-000000000001') FROM sessions s WHERE s.token_hash = '$TOKEN_HASH'"
expect "... last_seen_at and last_active_at are now" "$OWNER" \
    "SELECT s.last_seen_at > now() - interval '1 minute', tm.last_active_at > now() - interval '1 minute'
       FROM sessions s, team_members tm
      WHERE s.token_hash = '$TOKEN_HASH' AND tm.id = '10000000-0000-0000-0000-000000000001'" "t|t"
expect "... and auth_session no longer says they are due" "$APP" \
    "SELECT stamp_due FROM auth_session('$TOKEN_HASH', 'acme', 3600)" "f"
run "auth_session_touch with another person's membership" q "$APP" -c "
    SELECT auth_session_touch(s.id, '10000000-0000-0000-0000-000000000002') FROM sessions s WHERE s.token_hash = '$TOKEN_HASH'"
expect "... leaves that membership's last_active_at alone" "$OWNER" \
    "SELECT last_active_at IS NULL OR last_active_at < now() - interval '1 minute' FROM team_members WHERE id = '10000000-0000-0000-0000-000000000002'" "t"
expect_script "auth_session(globex) for a non-member: workspace NULL, no rows visible" "$APP" \
    "t|t
0" <<EOF
BEGIN;
SELECT user_id IS NOT NULL, workspace_id IS NULL FROM auth_session('$TOKEN_HASH', 'globex', 3600);
SELECT count(*) FROM team_members;
COMMIT;
EOF
expect "auth_session(NULL slug): session only, no switcher" "$APP" \
    "SELECT user_email, workspace_id IS NULL, workspaces IS NULL FROM auth_session('$TOKEN_HASH', NULL, 3600)" "demo@example.com|t|t"
expect "auth_session: idle, expired, unknown and malformed sessions give no row" "$APP" \
    "SELECT (SELECT count(*) FROM auth_session('$OLD_HASH', 'acme', 3600))
          + (SELECT count(*) FROM auth_session('$EXP_HASH', 'acme', 3600))
          + (SELECT count(*) FROM auth_session(repeat('0', 64), 'acme', 3600))
          + (SELECT count(*) FROM auth_session('$TOKEN_HASH' || 'x', 'acme', 3600))
          + (SELECT count(*) FROM auth_session(NULL, 'acme', 3600))" "0"
run "session for former@example.com" q "$OWNER" -c "
    INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
    VALUES (repeat('f', 64), '10000000-0000-0000-0000-000000000006', 'csrf-token-value-0123456789', now() + interval '1 hour')"
expect "auth_session: inactive member of acme gets NULL workspace" "$APP" \
    "SELECT user_email, workspace_id IS NULL FROM auth_session(repeat('f', 64), 'acme', 3600)" "former@example.com|t"
expect_script "auth_session: a member deactivated since the last call has no workspace at the next" "$SUDB" \
    "t" <<EOF
BEGIN;
UPDATE team_members SET status = 'inactive' WHERE id = '10000000-0000-0000-0000-000000000001';
SET LOCAL ROLE settings_app;
SELECT workspace_id IS NULL FROM auth_session('$TOKEN_HASH', 'acme', 3600);
ROLLBACK;
EOF
expect_script "auth_session: a deleted workspace is no workspace (the page answers 404)" "$SUDB" \
    "t|t" <<EOF
BEGIN;
UPDATE workspaces SET deleted_at = now() WHERE id = '$ACME';
SET LOCAL ROLE settings_app;
SELECT workspace_id IS NULL, workspaces IS NULL FROM auth_session('$TOKEN_HASH', 'acme', 3600);
ROLLBACK;
EOF
# 019: the session check of a process that serves one request, in SQL.
expect "auth_session_once (019) is auth_session's one statement, word for word" "$SUDB" \
    "SELECT position(rtrim(btrim(regexp_replace(o.prosrc, '\\s+', ' ', 'g')), '; ')
                     IN regexp_replace(a.prosrc, '\\s+', ' ', 'g')) > 0,
            o.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql'), o.prosecdef
       FROM pg_proc a, pg_proc o
      WHERE a.oid = 'auth_session(text,text,integer)'::regprocedure
        AND o.oid = 'auth_session_once(text,text,integer)'::regprocedure" "t|t|t"
expect "auth_session_once: settings_app may execute it, PUBLIC may not" "$SUDB" \
    "SELECT has_function_privilege('settings_app', 'auth_session_once(text,text,integer)', 'EXECUTE'),
            (SELECT bool_or(a.grantee = 0) FROM pg_proc p, aclexplode(p.proacl) a
              WHERE p.oid = 'auth_session_once(text,text,integer)'::regprocedure)" "t|f"
expect "auth_session_once answers as auth_session: valid, other workspace, no slug, idle, expired, inactive, unknown, malformed" "$APP" \
    "SELECT count(*) FILTER (WHERE d.n = 0), sum(d.rows)
       FROM (VALUES ('$TOKEN_HASH', 'acme'), ('$TOKEN_HASH', 'globex'), ('$TOKEN_HASH', NULL),
                    ('$OLD_HASH', 'acme'), ('$EXP_HASH', 'acme'), (repeat('f', 64), 'acme'),
                    (repeat('0', 64), 'acme'), ('$TOKEN_HASH' || 'x', 'acme')) v(h, s),
            LATERAL (SELECT (SELECT count(*) FROM (SELECT * FROM auth_session(v.h, v.s, 3600)
                                                   EXCEPT ALL
                                                   SELECT * FROM auth_session_once(v.h, v.s, 3600)) x)
                          + (SELECT count(*) FROM (SELECT * FROM auth_session_once(v.h, v.s, 3600)
                                                   EXCEPT ALL
                                                   SELECT * FROM auth_session(v.h, v.s, 3600)) y) AS n,
                            (SELECT count(*) FROM auth_session_once(v.h, v.s, 3600)) AS rows) d" "8|4"
expect_script "auth_session_once(acme): the context is set for the transaction" "$APP" \
    "owner|$ACME
6" <<EOF
BEGIN;
SELECT member_role, workspace_id FROM auth_session_once('$TOKEN_HASH', 'acme', 3600);
SELECT count(*) FROM team_members;
COMMIT;
EOF
expect "row-level security policies read the setting once per statement (an initplan)" "$SUDB" \
    "SELECT count(*) FILTER (WHERE qual LIKE '%SELECT (NULLIF(current_setting(%' AND with_check = qual) = count(*),
            count(*) >= 13
       FROM pg_policies WHERE schemaname = 'public'" "t|t"
expect "auth_user_workspaces: active memberships only" "$APP" \
    "SELECT (SELECT string_agg(slug || ':' || name || ':' || role, ',') FROM auth_user_workspaces('$DEMO')),
            (SELECT count(*) FROM auth_user_workspaces('10000000-0000-0000-0000-000000000006')),
            (SELECT count(*) FROM auth_user_workspaces('10000000-0000-0000-0000-000000000005'))" "acme:Acme Corp:owner|0|0"
expect "invitation_lookup: the pending invitation with inviter and invitee state" "$APP" \
    "SELECT workspace_slug, workspace_name, role, status, invited_by_name, invitation_email,
            user_has_password, deleted, expires_at > now()
       FROM invitation_lookup('$INV_HASH')" "acme|Acme Corp|member|pending|Demo Owner|pending@example.com|f|f|t"
expect "invitation_lookup: unknown token gives no row" "$APP" \
    "SELECT count(*) FROM invitation_lookup(repeat('a', 64))" "0"
expect "billing_workspace_for_customer: Acme's and Globex's customers, unknown is NULL" "$APP" \
    "SELECT billing_workspace_for_customer('cus_test_abc123def456'),
            billing_workspace_for_customer('cus_test_globex000001'),
            billing_workspace_for_customer('cus_unknown') IS NULL" "$ACME|$GLOBEX|t"

# ---------------------------------------------------------------------------
# Workspace versions (017): what the pages show moves the number, at commit
# ---------------------------------------------------------------------------
V="SELECT version FROM workspace_versions WHERE workspace_id"
expect "every workspace has a version; auth_session returns it" "$SUDB" \
    "SELECT workspace_version = (SELECT version FROM workspace_versions WHERE workspace_id = '$ACME')
       FROM auth_session('$TOKEN_HASH', 'acme', 3600)" "t"
expect_error "settings_app cannot read workspace_versions (auth_session only)" "$APP" 'permission denied' <<EOF
SELECT * FROM workspace_versions;
EOF
expect_error "settings_app cannot move a version by hand" "$APP" 'permission denied' <<EOF
UPDATE workspace_versions SET version = 1;
EOF
expect_script "a member's change moves the version at commit, not before; Globex's stays" "$SUDB" "t|t
t|t" <<EOF
CREATE TEMP TABLE v0 AS SELECT workspace_id, version FROM workspace_versions;
BEGIN;
UPDATE team_members SET role = role WHERE workspace_id = '$ACME' AND role = 'viewer';
UPDATE team_members SET role = role WHERE workspace_id = '$ACME' AND role = 'member';
SELECT ($V = '$ACME') = (SELECT version FROM v0 WHERE workspace_id = '$ACME'),
       ($V = '$GLOBEX') = (SELECT version FROM v0 WHERE workspace_id = '$GLOBEX');
COMMIT;
SELECT ($V = '$ACME') > (SELECT version FROM v0 WHERE workspace_id = '$ACME'),
       ($V = '$GLOBEX') = (SELECT version FROM v0 WHERE workspace_id = '$GLOBEX');
EOF
expect_script "a rolled-back change, a change rolled back to a savepoint and a no-op stamp move nothing" "$SUDB" "t" <<EOF
CREATE TEMP TABLE v0 AS SELECT workspace_id, version FROM workspace_versions;
BEGIN; UPDATE billing_config SET overage_allowed = overage_allowed; ROLLBACK;
BEGIN; SAVEPOINT a; UPDATE integrations_config SET is_enabled = is_enabled; ROLLBACK TO a; COMMIT;
UPDATE team_members SET last_active_at = now() WHERE false;
SELECT count(*) = 0 FROM workspace_versions w JOIN v0 USING (workspace_id) WHERE w.version <> v0.version;
EOF
expect_script "billing, integrations, the workspace's name, a person's name and the plan catalog move it" "$SUDB" "t|f
t|t
t|t
t|f
f|f
t|t" <<EOF
CREATE TEMP TABLE v0 AS SELECT workspace_id, version FROM workspace_versions;
CREATE FUNCTION pg_temp.moved(w uuid) RETURNS boolean LANGUAGE sql AS
  'SELECT (SELECT version FROM workspace_versions WHERE workspace_id = w) <> (SELECT version FROM v0 WHERE workspace_id = w)';
UPDATE billing_config SET overage_allowed = overage_allowed WHERE workspace_id = '$ACME';
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX'); DELETE FROM v0; INSERT INTO v0 SELECT workspace_id, version FROM workspace_versions;
UPDATE integrations_config SET is_enabled = is_enabled;
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX'); DELETE FROM v0; INSERT INTO v0 SELECT workspace_id, version FROM workspace_versions;
UPDATE workspaces SET name = name;
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX'); DELETE FROM v0; INSERT INTO v0 SELECT workspace_id, version FROM workspace_versions;
UPDATE users SET full_name = full_name || ' ' WHERE id = '$DEMO';
UPDATE users SET full_name = rtrim(full_name) WHERE id = '$DEMO';
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX'); DELETE FROM v0; INSERT INTO v0 SELECT workspace_id, version FROM workspace_versions;
UPDATE users SET password_hash = password_hash WHERE id = '$DEMO';
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX'); DELETE FROM v0; INSERT INTO v0 SELECT workspace_id, version FROM workspace_versions;
UPDATE plan_catalog SET sort_order = sort_order;
SELECT pg_temp.moved('$ACME'), pg_temp.moved('$GLOBEX');
EOF
# Two transactions that change Acme and Globex in opposite orders both
# commit: the numbers move at commit, locked in id order.
( q "$SUDB" -c "BEGIN; UPDATE team_members SET role = role WHERE workspace_id = '$ACME';
    SELECT pg_sleep(0.5); UPDATE team_members SET role = role WHERE workspace_id = '$GLOBEX'; COMMIT" \
    >"$WORK/order1.out" 2>&1; echo "rc=$?" >>"$WORK/order1.out" ) &
order_pid=$!
q "$SUDB" -c "BEGIN; UPDATE billing_config SET overage_allowed = overage_allowed WHERE workspace_id = '$GLOBEX';
    SELECT pg_sleep(0.5); UPDATE billing_config SET overage_allowed = overage_allowed WHERE workspace_id = '$ACME'; COMMIT" \
    >"$WORK/order2.out" 2>&1; echo "rc=$?" >>"$WORK/order2.out"
wait "$order_pid"
if grep -q 'rc=0' "$WORK/order1.out" && grep -q 'rc=0' "$WORK/order2.out"; then
    ok "two transactions over Acme and Globex in opposite orders both commit"
else
    not_ok "two transactions over Acme and Globex in opposite orders both commit" \
        "$(cat "$WORK/order1.out" "$WORK/order2.out")"
fi
expect_script "a new workspace starts with a version of its own" "$OWNER" "t" <<EOF
BEGIN;
INSERT INTO workspaces (name, slug) VALUES ('Versioned', 'versioned-dbtest');
SELECT version > 0 FROM workspace_versions v JOIN workspaces w ON w.id = v.workspace_id
 WHERE w.slug = 'versioned-dbtest';
ROLLBACK;
EOF

# ---------------------------------------------------------------------------
# Usage counters
# ---------------------------------------------------------------------------
expect_script "counters follow API key create/revoke and member deactivate/remove/invite (as settings_app)" "$APP" \
    "4|4
4|3
3|3
3|3
2|3
3|3" <<EOF
BEGIN;
SET LOCAL app.current_workspace_id = '$ACME';
INSERT INTO api_keys (id, workspace_id, name, key_prefix, key_hash)
VALUES ('4fffffff-0000-0000-0000-000000000001', '$ACME', 'probe', 'ak_probe', repeat('b', 64));
SELECT team_members_current, api_keys_current FROM billing_config;
UPDATE api_keys SET revoked_at = now() WHERE id = '4fffffff-0000-0000-0000-000000000001';
SELECT team_members_current, api_keys_current FROM billing_config;
UPDATE team_members SET status = 'inactive' WHERE id = '10000000-0000-0000-0000-000000000004';
SELECT team_members_current, api_keys_current FROM billing_config;
INSERT INTO team_members (workspace_id, user_id, role, status) VALUES ('$ACME', '10000000-0000-0000-0000-000000000007', 'viewer', 'pending');
SELECT team_members_current, api_keys_current FROM billing_config;
UPDATE team_members SET deleted_at = now() WHERE id = '10000000-0000-0000-0000-000000000003';
SELECT team_members_current, api_keys_current FROM billing_config;
UPDATE team_members SET status = 'active' WHERE id = '10000000-0000-0000-0000-000000000004';
SELECT team_members_current, api_keys_current FROM billing_config;
ROLLBACK;
EOF
expect_script "counters cannot be overwritten (also by the owner)" "$OWNER" "4|3" <<EOF
BEGIN;
UPDATE billing_config SET team_members_current = 99, api_keys_current = 42 WHERE workspace_id = '$ACME';
SELECT team_members_current, api_keys_current FROM billing_config WHERE workspace_id = '$ACME';
ROLLBACK;
EOF
expect_script "a billing row inserted later counts existing members and keys" "$OWNER" "1|0" <<EOF
BEGIN;
DELETE FROM billing_config WHERE workspace_id = '$GLOBEX';
INSERT INTO billing_config (workspace_id, plan_type) VALUES ('$GLOBEX', 'free');
SELECT team_members_current, api_keys_current FROM billing_config WHERE workspace_id = '$GLOBEX';
ROLLBACK;
EOF

# Two transactions adding active members at the same time.
run "race: users for two concurrent invitations" q "$OWNER" -c "
    INSERT INTO users (id, email) VALUES
      ('1fffffff-0000-0000-0000-00000000000a', 'race-a@example.com'),
      ('1fffffff-0000-0000-0000-00000000000b', 'race-b@example.com')"
q "$OWNER" >"$WORK/race-a.out" 2>&1 <<EOF &
BEGIN;
INSERT INTO team_members (workspace_id, user_id, role, status)
VALUES ('$ACME', '1fffffff-0000-0000-0000-00000000000a', 'viewer', 'active');
SELECT pg_sleep(1.5);
COMMIT;
EOF
race_a=$!
sleep 0.5
q "$OWNER" >"$WORK/race-b.out" 2>&1 <<EOF
BEGIN;
INSERT INTO team_members (workspace_id, user_id, role, status)
VALUES ('$ACME', '1fffffff-0000-0000-0000-00000000000b', 'viewer', 'active');
COMMIT;
EOF
race_b=$?
wait "$race_a"
race_a=$?
if [ "$race_a" -eq 0 ] && [ "$race_b" -eq 0 ]; then ok "race: both concurrent inserts commit"; else not_ok "race: both concurrent inserts commit" "$(cat "$WORK/race-a.out" "$WORK/race-b.out")"; fi
expect "race: team_members_current counts both concurrent members (6)" "$OWNER" \
    "SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME'" "6"
run "race: clean up" q "$OWNER" -c "
    DELETE FROM users WHERE id IN ('1fffffff-0000-0000-0000-00000000000a', '1fffffff-0000-0000-0000-00000000000b')"
expect "counters back to 4 after the members' users are deleted (cascade)" "$OWNER" \
    "SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME'" "4"

expect_script "deleting a workspace cascades through members, keys, billing and integrations" "$OWNER" "0|0|0" <<EOF
BEGIN;
DELETE FROM workspaces WHERE id = '$GLOBEX';
SELECT (SELECT count(*) FROM team_members WHERE workspace_id = '$GLOBEX'),
       (SELECT count(*) FROM billing_config WHERE workspace_id = '$GLOBEX'),
       (SELECT count(*) FROM integrations_config WHERE workspace_id = '$GLOBEX');
ROLLBACK;
EOF

# ---------------------------------------------------------------------------
# A person's own account (013): reset links, their limits, the personal audit
# stream, the rename
# ---------------------------------------------------------------------------
expect_error "settings_app cannot read password_reset_tokens (functions only)" "$APP" 'permission denied' <<'EOF'
SELECT token_hash FROM password_reset_tokens;
EOF
expect_error "settings_app cannot write password_reset_tokens" "$APP" 'permission denied' <<EOF
INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES ('$DEMO', repeat('a', 64), now());
EOF
expect_error "settings_app cannot read password_reset_requests" "$APP" 'permission denied' <<'EOF'
SELECT count(*) FROM password_reset_requests;
EOF
expect_error "settings_app cannot change account_audit_logs (append-only)" "$APP" 'permission denied' <<'EOF'
UPDATE account_audit_logs SET action = 'x';
EOF
expect_error "settings_app cannot delete account_audit_logs" "$APP" 'permission denied' <<'EOF'
DELETE FROM account_audit_logs;
EOF
ACCOUNT_FUNCS="ARRAY['password_reset_request(text,inet,text,integer,integer,integer,integer,text)',
                     'password_reset_lookup(text)', 'password_reset_use(text,text,inet,text)',
                     'password_reset_revoke(uuid)', 'account_rename(uuid,text)']"
expect "settings_app may execute the account functions" "$SUDB" \
    "SELECT bool_and(has_function_privilege('settings_app', f, 'EXECUTE')) FROM unnest($ACCOUNT_FUNCS) f" "t"
expect "... and PUBLIC may not" "$SUDB" \
    "SELECT bool_or(has_function_privilege('public', f, 'EXECUTE')) FROM unnest($ACCOUNT_FUNCS) f" "f"

M4=10000000-0000-0000-0000-000000000004
R1=$(printf '%064d' 1); R2=$(printf '%064d' 2); R3=$(printf '%064d' 3); R4=$(printf '%064d' 4)
expect_script "password_reset_request: sent for an account, none for no account, invited without a password" "$SUDB" \
    "sent|$M4|viewer@example.com
none||
invited|pending@example.com|Acme Corp
3|1|1" <<EOF
BEGIN;
SET LOCAL ROLE settings_app;
SELECT outcome, user_id, email FROM password_reset_request('Viewer@Example.com', '10.0.0.1', '$R1', 3600, 5, 20, 3600, 'dbtest');
SELECT outcome, user_id, email FROM password_reset_request('nobody@example.com', '10.0.0.1', '$R2', 3600, 5, 20, 3600, 'dbtest');
SELECT outcome, email, invitations FROM password_reset_request('pending@example.com', '10.0.0.1', '$R3', 3600, 5, 20, 3600, 'dbtest');
RESET ROLE;
SELECT (SELECT count(*) FROM password_reset_requests),
       (SELECT count(*) FROM password_reset_tokens),
       (SELECT count(*) FROM account_audit_logs WHERE action = 'account.password_reset_requested');
ROLLBACK;
EOF
expect_script "password_reset_request: three live links at most, the oldest revoked; the limits answer limited" "$OWNER" \
    "3|1
limited
limited" <<EOF
BEGIN;
\o /dev/null
SELECT password_reset_request('viewer@example.com', NULL, lpad(i::text, 64, '0'), 3600, 100, 100, 3600, NULL)
  FROM generate_series(1, 4) i;
\o
SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FILTER (WHERE revoked_at IS NOT NULL AND token_hash = lpad('1', 64, '0'))
  FROM password_reset_tokens;
SELECT outcome FROM password_reset_request('viewer@example.com', NULL, '$R4', 3600, 4, 100, 3600, NULL);
SELECT outcome FROM password_reset_request('other@example.com', '10.0.0.9', '$R4', 3600, 100, 0, 3600, NULL);
ROLLBACK;
EOF
expect_script "password_reset_lookup and password_reset_use: once, every session ended, the hash set" "$SUDB" \
    "live
reset|$M4|1
used
0|t|x" <<EOF
BEGIN;
SET LOCAL ROLE settings_app;
\o /dev/null
SELECT outcome FROM password_reset_request('viewer@example.com', NULL, '$R1', 3600, 5, 20, 3600, NULL);
\o
SELECT state FROM password_reset_lookup('$R1');
INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES (repeat('9', 64), '$M4', 'c', now() + interval '1 hour');
SELECT outcome, user_id, sessions_ended FROM password_reset_use('$R1', 'x', NULL, NULL);
SELECT outcome FROM password_reset_use('$R1', 'y', NULL, NULL);
RESET ROLE;
SELECT (SELECT count(*) FROM sessions WHERE user_id = '$M4'),
       (SELECT used_at IS NOT NULL FROM password_reset_tokens WHERE token_hash = '$R1'),
       (SELECT password_hash FROM users WHERE id = '$M4');
SELECT state FROM password_reset_lookup('$R2');
ROLLBACK;
EOF
expect_script "password_reset_use: expired and unknown links are refused" "$OWNER" \
    "expired
unknown" <<EOF
BEGIN;
\o /dev/null
SELECT outcome FROM password_reset_request('viewer@example.com', NULL, '$R1', 3600, 5, 20, 3600, NULL);
\o
UPDATE password_reset_tokens SET expires_at = now() - interval '1 second';
SELECT outcome FROM password_reset_use('$R1', 'x', NULL, NULL);
SELECT outcome FROM password_reset_use('$R2', 'x', NULL, NULL);
ROLLBACK;
EOF
expect_delta "versions: account_rename (as settings_app) moves the person's pages and every team page they are on" \
    "SET LOCAL ROLE settings_app; SELECT account_rename('$M4', 'Renamed Viewer')" "1|1|0|f|t" "$SUDB"
expect_script "account_audit_logs: settings_app appends and reads the person's rows" "$APP" "1" <<EOF
BEGIN;
INSERT INTO account_audit_logs (user_id, action, changes) VALUES ('$M4', 'account.name_changed', '{"old_name": "a", "new_name": "b"}');
SELECT count(*) FROM account_audit_logs WHERE user_id = '$M4';
ROLLBACK;
EOF

# A rename and a team change of the same person at once: the rename takes the
# workspace rows before the person's, as a team change does, so neither deadlocks.
q "$OWNER" >"$WORK/rename-a.out" 2>&1 <<EOF &
BEGIN;
SELECT 1 FROM workspaces WHERE id = '$ACME' FOR NO KEY UPDATE;
SELECT pg_sleep(1);
UPDATE team_members SET role = 'member' WHERE user_id = '$M4' AND workspace_id = '$ACME';
COMMIT;
EOF
rename_a=$!
sleep 0.3
q "$APP" -c "SELECT new_name FROM account_rename('$M4', 'Raced Viewer')" >"$WORK/rename-b.out" 2>&1
rename_b=$?
wait "$rename_a"
rename_a=$?
if [ "$rename_a" -eq 0 ] && [ "$rename_b" -eq 0 ]; then ok "race: a rename and a team change of the same person both commit (no deadlock)"
else not_ok "race: a rename and a team change of the same person both commit (no deadlock)" "$(cat "$WORK/rename-a.out" "$WORK/rename-b.out")"; fi
expect "race: both changes are there" "$OWNER" \
    "SELECT u.full_name, tm.role FROM users u JOIN team_members tm ON tm.user_id = u.id AND tm.workspace_id = '$ACME' WHERE u.id = '$M4'" \
    "Raced Viewer|member"
run "race: clean up" q "$OWNER" -c "UPDATE team_members SET role = 'viewer' WHERE user_id = '$M4' AND workspace_id = '$ACME';
                                   UPDATE users SET full_name = 'Viewer User' WHERE id = '$M4'"

# ---------------------------------------------------------------------------
# 012: API keys, deleted workspaces, purge
# ---------------------------------------------------------------------------
SEED_KEY=ak_live_4f1c-dev-seed-key-production
q "$OWNER" -c "UPDATE api_keys SET last_used_at = NULL WHERE id = '40000000-0000-0000-0000-000000000001'"
expect "api_key_verify (settings_app): a valid key gives its workspace" "$APP" \
    "SELECT api_key_verify('$SEED_KEY')" "$ACME"
expect "... and stamps last_used_at" "$OWNER" \
    "SELECT last_used_at > now() - interval '1 minute' FROM api_keys WHERE id = '40000000-0000-0000-0000-000000000001'" "t"
q "$OWNER" -c "UPDATE api_keys SET last_used_at = now() - interval '30 seconds' WHERE id = '40000000-0000-0000-0000-000000000001'"
expect "api_key_verify stamps at most once a minute" "$APP" \
    "SELECT api_key_verify('$SEED_KEY') = '$ACME',
            (SELECT count(*) FROM api_keys)" "t|0"
expect "... the stamp 30 seconds old stays" "$OWNER" \
    "SELECT last_used_at < now() - interval '20 seconds' FROM api_keys WHERE id = '40000000-0000-0000-0000-000000000001'" "t"
expect "api_key_verify: unknown, NULL, too short or too long gives NULL" "$APP" \
    "SELECT api_key_verify('sk_live_unknownunknownunknown') IS NULL, api_key_verify(NULL) IS NULL,
            api_key_verify('short') IS NULL, api_key_verify(repeat('x', 300)) IS NULL" "t|t|t|t"
q "$OWNER" -c "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '40000000-0000-0000-0000-000000000002'"
q "$OWNER" -c "UPDATE api_keys SET revoked_at = now() WHERE id = '40000000-0000-0000-0000-000000000003'"
expect "api_key_verify: an expired key and a revoked key give NULL" "$APP" \
    "SELECT api_key_verify('ak_live_9b2e-dev-seed-key-staging') IS NULL, api_key_verify('ak_live_c7d0-dev-seed-key-ci') IS NULL" "t|t"
expect "the revoked key left the counter (api_keys_current = real count)" "$OWNER" \
    "SELECT api_keys_current FROM billing_config WHERE workspace_id = '$ACME'" "2"
q "$OWNER" -c "UPDATE api_keys SET expires_at = NULL, revoked_at = NULL WHERE workspace_id = '$ACME'"
expect_error "settings_app cannot run workspace_purge_step" "$APP" "permission denied" <<'EOSQL'
SELECT * FROM workspace_purge_step(10);
EOSQL
expect_error "settings_app cannot read workspace_purges" "$APP" "permission denied" <<'EOSQL'
SELECT * FROM workspace_purges;
EOSQL
expect "workspace_purges has row-level security like every workspace table" "$OWNER" \
    "SELECT relrowsecurity FROM pg_class WHERE relname = 'workspace_purges'" "t"

expect "workspace_restore of a live workspace: unknown" "$APP" \
    "SELECT outcome FROM workspace_restore('$DEMO', 'acme', NULL, NULL)" "unknown"
q "$OWNER" -c "UPDATE workspaces SET deleted_at = now() - interval '2 days' WHERE id = '$ACME';
               UPDATE integrations_config SET is_enabled = false, suspended_at = now() WHERE workspace_id = '$ACME' AND is_enabled"
expect "a deleted workspace is in its owner's list, not in an admin's" "$APP" \
    "SELECT (SELECT string_agg(slug, ',') FROM workspace_deleted_list('$DEMO')),
            (SELECT count(*) FROM workspace_deleted_list('10000000-0000-0000-0000-000000000002'))" "acme|0"
expect "auth_user_workspaces leaves the deleted workspace out" "$APP" \
    "SELECT count(*) FROM auth_user_workspaces('$DEMO')" "0"
q "$OWNER" -c "UPDATE integrations_config SET is_enabled = true WHERE workspace_id = '$ACME' AND suspended_at IS NULL"
expect "an integration of a deleted workspace stays off whoever switches it on" "$OWNER" \
    "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled" "0"
expect "workspace_restore by an admin: unknown" "$APP" \
    "SELECT outcome FROM workspace_restore('10000000-0000-0000-0000-000000000002', 'acme', NULL, NULL)" "unknown"
expect "workspace_restore by the owner: restored" "$APP" \
    "SELECT outcome = 'restored' AND workspace_id = '$ACME' FROM workspace_restore('$DEMO', 'acme', '127.0.0.1', 'dbtest')" "t"
expect "... live again, only the suspended integrations back on, one audit row" "$OWNER" \
    "SELECT (SELECT deleted_at IS NULL FROM workspaces WHERE id = '$ACME'),
            (SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND is_enabled),
            (SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND suspended_at IS NOT NULL),
            (SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'workspace.restored')" "t|3|0|1"
q "$OWNER" -c "UPDATE workspaces SET deleted_at = now() - interval '31 days' WHERE id = '$ACME'"
expect "past 30 days: not listed, restore answers expired" "$APP" \
    "SELECT (SELECT count(*) FROM workspace_deleted_list('$DEMO')),
            (SELECT outcome FROM workspace_restore('$DEMO', 'acme', NULL, NULL))" "0|expired"
expect "workspace_purge_step: one table's batch at a time" "$OWNER" \
    "SELECT slug, rows_deleted BETWEEN 1 AND 2, finished FROM workspace_purge_step(2)" "acme|t|f"
for _ in $(seq 1 40); do q "$OWNER" -c "SELECT workspace_purge_step(1000)" >/dev/null; done
expect "... until Acme is gone, with one summary line; Globex untouched" "$OWNER" \
    "SELECT (SELECT count(*) FROM workspaces WHERE id = '$ACME'),
            (SELECT count(*) FROM workspace_purges WHERE workspace_id = '$ACME' AND purged_at IS NOT NULL AND rows_deleted > 10),
            (SELECT count(*) FROM workspaces WHERE id = '$GLOBEX'),
            (SELECT count(*) FROM workspace_purge_step(10))" "0|1|1|0"
# ---------------------------------------------------------------------------
# Down all (with data), up all again
# ---------------------------------------------------------------------------
down_ok=1
for i in $(seq "$n" -1 1); do
    if ! out=$(migrate down 2>&1); then
        not_ok "down all with seeded data" "$out"
        down_ok=0
        break
    fi
done
if [ "$down_ok" -eq 1 ]; then ok "down all with seeded data"; fi
expect "after down all only schema_migrations is left (empty), no extension" "$SUDB" \
    "SELECT (SELECT string_agg(c.relname, ',') FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S', 'm')),
            (SELECT count(*) FROM schema_migrations),
            (SELECT count(*) FROM pg_extension WHERE extname = 'uuid-ossp'),
            (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)" "schema_migrations|0|0|0"
if out=$(migrate up 2>&1) && [ "$(printf '%s\n' "$out" | grep -c '^applied ')" -eq "$n" ]; then
    ok "up all again after down all"
else
    not_ok "up all again after down all" "$out"
fi
run "seed loads again" q "$OWNER" -1 -f "$SQL/seed/dev.sql"
expect "counters correct after reload" "$OWNER" \
    "SELECT team_members_current, api_keys_current FROM billing_config WHERE workspace_id = '$ACME'" "4|3"

finish
