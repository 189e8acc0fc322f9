#!/bin/sh
# t206-team-large.sh: a 10,000-member workspace: counts, paging, search, and queries that read a page, not the workspace.
. "$ROOT/tests/e2e/lib.sh"

BIG=00000000-0000-0000-0000-0000000000b1
TEAM=/w/bigco/settings/team

sql "INSERT INTO workspaces (id, name, slug) VALUES ('$BIG', 'BigCo', 'bigco');
     INSERT INTO users (id, email, password_hash, full_name, is_verified)
     SELECT '00000000-0000-0000-0000-0000000000b2', 'big-owner@example.com', password_hash, 'Big Owner', true
       FROM users WHERE email = 'demo@example.com';
     INSERT INTO billing_config (workspace_id, plan_type, data_retention_days) VALUES ('$BIG', 'enterprise', 365);
     INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)
     VALUES ('$BIG', '00000000-0000-0000-0000-0000000000b2', 'owner', 'active', now() - interval '2 years');
     INSERT INTO users (email, full_name, is_verified)
     SELECT format('person%s@bigco.example', lpad(i::text, 5, '0')), format('Person %s', lpad(i::text, 5, '0')), i < 10000
       FROM generate_series(1, 10004) i;
     INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at, created_at, invitation_email,
                               invitation_token, invitation_expires_at)
     SELECT '$BIG', u.id, 'member',
            CASE WHEN n < 10000 THEN 'active' WHEN n < 10003 THEN 'pending' ELSE 'inactive' END,
            CASE WHEN n < 10000 OR n >= 10003 THEN now() - interval '1 year' + n * interval '1 minute' END,
            now() - interval '1 year' + n * interval '1 minute',
            CASE WHEN n >= 10000 AND n < 10003 THEN u.email END,
            CASE WHEN n >= 10000 AND n < 10003 THEN md5(u.email) || md5(u.email) END,
            CASE WHEN n >= 10000 AND n < 10003 THEN now() + interval '2 days' END
       FROM (SELECT id, email, substring(email FROM 'person([0-9]+)@')::int AS n
               FROM users WHERE email LIKE 'person%@bigco.example') u;
" >/dev/null
# What autovacuum does to a live database (visibility map, the trigram indexes' pending lists).
sql "VACUUM ANALYZE users" >/dev/null
sql "VACUUM ANALYZE team_members" >/dev/null

rows() { grep -c 'scope="row"' "$T/body"; }
login big big-owner@example.com
is "the counter knows 10,000 active members" \
	"$(sql "SELECT team_members_current FROM billing_config WHERE workspace_id = '$BIG'")" 10000

get big "$TEAM"
is "page 1 of a 10,000-member workspace answers 200" "$STATUS" 200
check "... counting 10,000 active, 3 pending, 2 inactive" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (10,000)' && w3m -dump -T text/html '$T/body' | grep -q 'Pending invitations (3)' && w3m -dump -T text/html '$T/body' | grep -q 'Inactive members (2)'"
is "... listing 50 active members and the 5 others" "$(rows)" 55
check "... saying which 50" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Showing 1–50 of 10,000'"
check "... with a next page" body_has "$TEAM?page=2\""
get big "$TEAM?page=200"
is "page 200: the last 50 active members" "$(rows)" 50
check "... the very last one included, no next page" sh -c "grep -q 'person09999@bigco.example' '$T/body' && ! grep -q 'rel=\"next\"' '$T/body'"
get big "$TEAM?page=201"
is "page 201 answers 200 with nobody on it" "$STATUS|$(rows)" "200|0"
check "... and says where everyone is" body_has "All active members are listed on earlier pages"
get big "$TEAM?q=person04242"
is "search finds one member among 10,000" "$(rows)" 1
check "... the right one" body_has "person04242@bigco.example"
get big "$TEAM?q=PERSON%2004"
check "search by name counts all matches" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (1,000)'"
is "... and shows the first 50" "$(rows)" 50
get big "$TEAM?q=bigco.example&page=3"
is "a search matching everyone pages too" "$(rows)" 50

# The page's statement, run as the application runs it (generic plan, RLS),
# reads a page's worth of rows, not the workspace.
page_sql=$(strings -n 500 "$BUILD/bin/team" | grep '^WITH ws AS MATERIALIZED' | grep -v ILIKE | head -1)
search_sql=$(strings -n 500 "$BUILD/bin/team" | grep '^WITH ws AS MATERIALIZED' | grep ILIKE | head -1)
check "the page statements are found in the executable" test -n "$page_sql" -a -n "$search_sql"
# reads SQL ARGS: team_members and users rows read by one execution, and how many sequential scans.
reads() {
	psql_super -tA >"$T/plan.json" <<SQL
SET ROLE settings_app;
SET plan_cache_mode = force_generic_plan;
SELECT set_config('app.current_workspace_id', '$BIG', false) \g /dev/null
PREPARE p AS $1;
EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE p($2);
SQL
	jq -r '[.. | objects | select(has("Relation Name")) | select(."Relation Name" == "team_members" or ."Relation Name" == "users")] as $n
	       | "\([$n[] | ."Actual Rows" * ."Actual Loops"] | add | floor) \([$n[] | select(."Node Type" == "Seq Scan")] | length)"' \
		"$T/plan.json" 2>/dev/null
}
# shellcheck disable=SC2046 # two words: rows read, sequential scans
set -- $(reads "$page_sql" "'$BIG', 0")
check "page 1 reads a few hundred member and user rows, not 10,000 (read: ${1:-?})" test "${1:-99999}" -lt 1000
is "... without a sequential scan" "${2:-x}" 0
# shellcheck disable=SC2046 # two words: rows read, sequential scans
set -- $(reads "$page_sql" "'$BIG', 4950")
check "page 100 skips index entries only (read: ${1:-?})" test "${1:-99999}" -lt 6000
# shellcheck disable=SC2046 # two words: rows read, sequential scans
set -- $(reads "$search_sql" "'$BIG', 0, '%person04242%'")
check "a selective search reads a handful of rows (read: ${1:-?})" test "${1:-99999}" -lt 100
is "... without a sequential scan" "${2:-x}" 0

# The same rows as a plain reference query (OFFSET over the section's order), for the
# first, a deep and the last pages, and for searches: ids in page order, section by section.
ids_app() { # ids_app SQL OFFSET [PATTERN]: the ids the page statement lists, in order
	s=$(printf '%s' "$1" | sed "s/\$1::uuid/'$BIG'::uuid/g; s/\$2::int/$2/g; s/\$3/'$3'/g")
	psql_super -tA <<SQL
SET ROLE settings_app;
SELECT set_config('app.current_workspace_id', '$BIG', false) \g /dev/null
SELECT coalesce(string_agg(x.ord || ':' || x.id, ',' ORDER BY x.ord, x.seq), '') FROM ($s) x WHERE x.ord IS NOT NULL;
SQL
}
ids_ref() { # ids_ref OFFSET [PATTERN]
	psql_super -tA <<SQL
WITH m AS (SELECT t.id, t.status, coalesce(t.accepted_at, t.created_at) AS joined
             FROM team_members t JOIN users u ON u.id = t.user_id
            WHERE t.workspace_id = '$BIG' AND t.deleted_at IS NULL
              AND ('${2:-}' = '' OR u.email ILIKE '${2:-}' OR u.full_name ILIKE '${2:-}')),
r AS ((SELECT 1 AS ord, row_number() OVER (ORDER BY joined, id) AS seq, id FROM m WHERE status = 'active' ORDER BY joined, id OFFSET $1 LIMIT 51)
      UNION ALL (SELECT 2, row_number() OVER (ORDER BY joined DESC, id DESC), id FROM m WHERE status = 'pending' ORDER BY joined DESC, id DESC OFFSET $1 LIMIT 51)
      UNION ALL (SELECT 3, row_number() OVER (ORDER BY joined, id), id FROM m WHERE status = 'inactive' ORDER BY joined, id OFFSET $1 LIMIT 51))
SELECT coalesce(string_agg(ord || ':' || id, ',' ORDER BY ord, seq), '') FROM r;
SQL
}
for off in 0 50 4950 9950 10000; do
	a=$(ids_app "$page_sql" "$off"); r=$(ids_ref "$off")
	check "offset $off: the page statement lists the reference query's rows, in order ($(printf '%s' "$r" | tr ',' '\n' | grep -c .) rows)" \
		test "$a" = "$r"
	[ "$a" = "$r" ] || echo "# app: $(printf '%s' "$a" | cut -c1-200) ref: $(printf '%s' "$r" | cut -c1-200)"
done
for q in '%person04242%' '%PERSON 04%' '%bigco.example%'; do
	for off in 0 100 950; do
		a=$(ids_app "$search_sql" "$off" "$q"); r=$(ids_ref "$off" "$q")
		check "search $q at offset $off: the reference query's rows, in order" test "$a" = "$r"
	done
done
# Row-level security stands behind the page statements: with another workspace's id
# (the application forgetting its filter) they list nobody.
wrong() { # wrong SQL [PATTERN]: rows listed with $1 = BigCo's id while the context is Acme's
	s=$(printf '%s' "$1" | sed "s/\$1::uuid/'$BIG'::uuid/g; s/\$2::int/0/g; s/\$3/'${2:-%}'/g")
	psql_super -tA <<SQL
SET ROLE settings_app;
SELECT set_config('app.current_workspace_id', '00000000-0000-0000-0000-000000000001', false) \g /dev/null
SELECT count(x.id) || '|' || coalesce(max(x.n_active), 0) FROM ($s) x;
SQL
}
is "RLS: the page statement with another workspace's id lists no one and counts no one" "$(wrong "$page_sql")" "0|0"
is "RLS: the search statement with another workspace's id lists no one" "$(wrong "$search_sql" '%person%')" "0|0"

t=$(curl -sS -o /dev/null -w '%{time_total}' -b "$T/big.jar" "$BASE$TEAM")
check "page 1 answers well within a second ($t s)" sh -c "echo '$t' | awk '{ exit !(\$1 < 0.5) }'"
post big "$TEAM/invite" "email=newcomer@example.com" "role=viewer"
is "inviting into the large workspace works (no limit)" "$STATUS" 303
