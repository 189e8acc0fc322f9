/* audit_queries.c: the audit log's statements (the page's four, the export's batches) */
#include "app.h"
#include "audit.h"

/*
 * The log, newest first, after the keyset cursor ($6 microseconds since
 * the epoch, $7 id) when there is one, filtered by action ($2), person
 * ($3) and dates ($4, $5, inclusive; the end and the cursor make one
 * bound, b.before_*). One generic plan for every request,
 * planned once per connection: of the four branches, the one for the
 * filters given runs (the others stop at their one-time filter) and walks
 * its index of 012_workspace from the cursor on, every bound an index
 * condition, whatever the size of the log: no OFFSET, no per-request
 * planning. The workspace is $1 or, for the prefetched page (sent with the
 * session check, before the id is known), the one that check set. The
 * person of each row is one key lookup.
 */
/*
 * The four statements of the page differ only in how the entries are
 * filtered (by action, by person): the rest is one text.
 */
#define AUDIT_PAGE_HEAD \
	"WITH ws AS MATERIALIZED ( " \
	"  SELECT coalesce($1::uuid, nullif(current_setting('app.current_workspace_id', true), '')::uuid) AS id), " \
	"b AS MATERIALIZED ( " \
	"  SELECT c.lo, " \
	"         CASE WHEN c.cur_at < c.hi THEN c.cur_at ELSE c.hi END AS before_at, " \
	"         CASE WHEN c.cur_at < c.hi THEN c.cur_id " \
	"              ELSE '00000000-0000-0000-0000-000000000000'::uuid END AS before_id " \
	"    FROM (SELECT coalesce($4::date::timestamp AT TIME ZONE 'UTC', '-infinity') AS lo, " \
	"                 coalesce(($5::date + 1)::timestamp AT TIME ZONE 'UTC', 'infinity') AS hi, " \
	"                 coalesce('epoch'::timestamptz + $6::bigint * interval '1 microsecond', " \
	"                          'infinity') AS cur_at, " \
	"                 coalesce($7::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff') AS cur_id) c) " \
	"(SELECT extract(epoch FROM a.created_at), a.id, a.action, " \
	"        coalesce(nullif(u.full_name, ''), u.email), host(a.ip_address), " \
	"        CASE WHEN a.action LIKE 'team\\_member.%' THEN a.changes ->> 'email' " \
	"             ELSE a.resource_type END, " \
	"        CASE WHEN a.action = 'team_member.role_changed' THEN a.changes ->> 'old_role' " \
	"             WHEN a.action LIKE 'team\\_member.%' THEN a.changes ->> 'role' " \
	"             WHEN a.action = 'workspace.renamed' THEN a.changes -> 'old' ->> 'name' " \
	"             WHEN a.action LIKE 'api\\_key.%' THEN a.changes ->> 'name' " \
	"             WHEN a.action LIKE 'integration.%' " \
	"               THEN coalesce(a.changes ->> 'name', a.changes -> 'new' ->> 'integration_name', " \
	"                             a.changes -> 'old' ->> 'integration_name', " \
	"                             a.changes ->> 'integration_name') " \
	"             WHEN a.action = 'billing.plan_changed' THEN a.changes -> 'old' ->> 'plan_type' " \
	"             WHEN a.action = 'billing.stripe_event_applied' " \
	"               THEN a.changes ->> 'stripe_event_type' END, " \
	"        CASE WHEN a.action = 'team_member.role_changed' THEN a.changes ->> 'new_role' " \
	"             WHEN a.action = 'workspace.renamed' THEN a.changes -> 'new' ->> 'name' " \
	"             WHEN a.action = 'api_key.created' THEN a.changes ->> 'key_prefix' " \
	"             WHEN a.action = 'billing.plan_changed' THEN a.changes -> 'new' ->> 'plan_type' END " \
	"   FROM audit_logs a " \
	"   LEFT JOIN users u ON u.id = a.user_id "
#define AUDIT_PAGE_TAIL \
	"    AND a.created_at >= (SELECT lo FROM b) " \
	"    AND (a.created_at, a.id) < ((SELECT before_at FROM b), (SELECT before_id FROM b)) " \
	"  ORDER BY a.created_at DESC, a.id DESC LIMIT $8::int) " \
	"UNION ALL " \
	"(SELECT extract(epoch FROM now()), NULL, x.id::text, x.email, NULL, x.full_name, " \
	"        (row_number() OVER (ORDER BY lower(coalesce(nullif(x.full_name, ''), x.email)), x.id))::text, " \
	"        NULL " \
	"   FROM users x " \
	"  WHERE x.id IN (SELECT tm.user_id FROM team_members tm " \
	"                  WHERE tm.workspace_id = (SELECT id FROM ws) AND tm.status <> 'pending') " \
	"  ORDER BY lower(coalesce(nullif(x.full_name, ''), x.email)), x.id LIMIT 1001)"

const struct stmt audit_stmts[AUDIT_NSTMTS] = {
	/* The CSV export's batches. */
	{ "audit_rows",
	  "WITH ws AS MATERIALIZED ("
	  "  SELECT coalesce($1::uuid, nullif(current_setting('app.current_workspace_id', true), '')::uuid) AS id), "
	  "b AS MATERIALIZED ("
	  "  SELECT c.lo, "
	  "         CASE WHEN c.cur_at < c.hi THEN c.cur_at ELSE c.hi END AS before_at, "
	  "         CASE WHEN c.cur_at < c.hi THEN c.cur_id "
	  "              ELSE '00000000-0000-0000-0000-000000000000'::uuid END AS before_id "
	  "    FROM (SELECT coalesce($4::date::timestamp AT TIME ZONE 'UTC', '-infinity') AS lo, "
	  "                 coalesce(($5::date + 1)::timestamp AT TIME ZONE 'UTC', 'infinity') AS hi, "
	  "                 coalesce('epoch'::timestamptz + $6::bigint * interval '1 microsecond', "
	  "                          'infinity') AS cur_at, "
	  "                 coalesce($7::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff') AS cur_id) c) "
	  "SELECT (extract(epoch FROM a.created_at) * 1000000)::bigint || '_' || a.id, "
	  "       to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       a.action, a.resource_type, a.resource_id, host(a.ip_address), a.user_agent, "
	  "       u.email, u.full_name, "
	  "       a.changes ->> 'email', a.changes ->> 'role', a.changes ->> 'old_role', "
	  "       a.changes ->> 'new_role', "
	  "       coalesce(a.changes ->> 'name', a.changes -> 'new' ->> 'integration_name', "
	  "                a.changes -> 'old' ->> 'integration_name', a.changes ->> 'integration_name'), "
	  "       a.changes -> 'old' ->> 'name', a.changes -> 'new' ->> 'name', "
	  "       a.changes ->> 'key_prefix', a.changes -> 'old' ->> 'plan_type', "
	  "       a.changes -> 'new' ->> 'plan_type', a.changes ->> 'stripe_event_type', "
	  "       a.changes::text "
	  "  FROM ("
	  "  (SELECT x.* FROM audit_logs x "
	  "    WHERE $2::text IS NULL AND $3::uuid IS NULL "
	  "      AND x.workspace_id = (SELECT id FROM ws) "
	  "      AND x.created_at >= (SELECT lo FROM b) "
	  "      AND (x.created_at, x.id) < ((SELECT before_at FROM b), (SELECT before_id FROM b)) "
	  "    ORDER BY x.created_at DESC, x.id DESC LIMIT $8::int) "
	  "  UNION ALL "
	  "  (SELECT x.* FROM audit_logs x "
	  "    WHERE $2::text IS NOT NULL AND $3::uuid IS NULL "
	  "      AND x.workspace_id = (SELECT id FROM ws) AND x.action = $2::text "
	  "      AND x.created_at >= (SELECT lo FROM b) "
	  "      AND (x.created_at, x.id) < ((SELECT before_at FROM b), (SELECT before_id FROM b)) "
	  "    ORDER BY x.created_at DESC, x.id DESC LIMIT $8::int) "
	  "  UNION ALL "
	  "  (SELECT x.* FROM audit_logs x "
	  "    WHERE $2::text IS NULL AND $3::uuid IS NOT NULL "
	  "      AND x.workspace_id = (SELECT id FROM ws) AND x.user_id = $3::uuid "
	  "      AND x.created_at >= (SELECT lo FROM b) "
	  "      AND (x.created_at, x.id) < ((SELECT before_at FROM b), (SELECT before_id FROM b)) "
	  "    ORDER BY x.created_at DESC, x.id DESC LIMIT $8::int) "
	  "  UNION ALL "
	  "  (SELECT x.* FROM audit_logs x "
	  "    WHERE $2::text IS NOT NULL AND $3::uuid IS NOT NULL "
	  "      AND x.workspace_id = (SELECT id FROM ws) AND x.action = $2::text AND x.user_id = $3::uuid "
	  "      AND x.created_at >= (SELECT lo FROM b) "
	  "      AND (x.created_at, x.id) < ((SELECT before_at FROM b), (SELECT before_id FROM b)) "
	  "    ORDER BY x.created_at DESC, x.id DESC LIMIT $8::int) "
	  "       ) a "
	  "  LEFT JOIN LATERAL (SELECT x.email, x.full_name FROM users x "
	  "                      WHERE x.id = a.user_id OFFSET 0) u ON true "
	  " ORDER BY a.created_at DESC, a.id DESC" },
	/*
	 * The page: up to 51 entries for audit_rows' filters and cursor, newest
	 * first, then one row with the person filter's choices. One statement
	 * for each pair of filters (audit_page: neither an action nor a person;
	 * _action, _actor, _action_actor: those given), so that a request sets
	 * up only the index scan it runs. Each entry has only what the page
	 * writes, 8 columns rather than audit_rows' 21 (each column of each row
	 * costs PostgreSQL its output): seconds since the epoch (the page writes
	 * the cursor, the ISO time and the time ago from them), the row id, the
	 * action, the person (name, or email), the address, and the three
	 * details that the action's sentence needs (the resource type first for
	 * an unknown action), so that a row reads at most three values of its
	 * changes. The entries come in the index's order through a nested loop
	 * over the people's primary key: nothing is sorted. Then, without an
	 * entry id, everyone who has been a member (the person filter, up to
	 * 1,001): the statement's time, the person's id, email and name, and
	 * their place by name; they are there also when no entry matches, and
	 * alone with $8 = 0 (the 422 form). UNION ALL promises no order: the
	 * page puts the entries in order by their time and id, the people by
	 * their place.
	 */
	{ "audit_page",
	  AUDIT_PAGE_HEAD
	  "  WHERE $2::text IS NULL AND $3::uuid IS NULL "
	  "    AND a.workspace_id = (SELECT id FROM ws) "
	  AUDIT_PAGE_TAIL },
	{ "audit_page_action",
	  AUDIT_PAGE_HEAD
	  "  WHERE $3::uuid IS NULL "
	  "    AND a.workspace_id = (SELECT id FROM ws) AND a.action = $2::text "
	  AUDIT_PAGE_TAIL },
	{ "audit_page_actor",
	  AUDIT_PAGE_HEAD
	  "  WHERE $2::text IS NULL "
	  "    AND a.workspace_id = (SELECT id FROM ws) AND a.user_id = $3::uuid "
	  AUDIT_PAGE_TAIL },
	{ "audit_page_action_actor",
	  AUDIT_PAGE_HEAD
	  "  WHERE a.workspace_id = (SELECT id FROM ws) AND a.action = $2::text AND a.user_id = $3::uuid "
	  AUDIT_PAGE_TAIL },
};
