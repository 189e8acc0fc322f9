#!/bin/sh
# t520-audit.sh: the audit log by role, in words (actions by their labels, dates in the one style with the time ago), filters (422 by the field), keyset paging, the streamed CSV (ISO 8601 times, filters, RFC 4180, formula injection), 404 across workspaces.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
ADMIN_USER=10000000-0000-0000-0000-000000000002
P=/w/acme/settings/audit

get anon $P
is "signed out: 303 to sign in" "$STATUS" 303
for role in member viewer; do
	login "$role" "$role@example.com"
	get "$role" $P
	is "$role: the audit log is 403" "$STATUS" 403
	check "$role: ... naming the roles" body_has "owner or admin role in this workspace; you are a $role."
	get "$role" $P.csv
	is "$role: the CSV is 403" "$STATUS" 403
	check "$role: ... no CSV" sh -c "! grep -q '^time_utc' '$T/body'"
done

login demo demo@example.com
login admin admin@example.com
get demo $P
is "owner: 200" "$STATUS" 200
check "owner: the filter form is a GET form" body_has 'method="get"'
check "owner: the page is valid HTML" tidy_ok
check "owner: an empty log says so" body_has 'Nothing has been recorded yet.'

# Changes through the pages, then the log in words.
post demo /w/acme/settings/team/10000000-0000-0000-0000-000000000003/role role=admin
post admin /w/acme/settings/general name="Acme, \"Quoted\" Corp"
curl -sS -o /dev/null -b "$T/admin.jar" -A "=cmd|' /C calc'!A0" --data-urlencode "csrf_token=$(csrf admin)" \
	--data-urlencode "name==HYPERLINK(\"http://evil.example/\",\"x\")" "$BASE/w/acme/settings/general"
post demo /w/acme/settings/api-keys name="CI, nightly" expires_in_days=30
get admin $P
is "admin: 200" "$STATUS" 200
check "in words: who changed whose role from what to what" body_has "Demo Owner changed member@example.com&#39;s role from member to admin"
check "in words: the rename with old and new names" body_has 'Admin User renamed the workspace from “Acme Corp” to “Acme, &quot;Quoted&quot; Corp”'
check "in words: the API key" body_has 'Demo Owner created the API key “CI, nightly” (sk_live_'
check "from where: the address" body_has '<td>127.0.0.1</td>'
check "when: the moment in words with the time ago, ISO 8601 in datetime=" \
	grep -Eq '<td class="when"><time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z">[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}, [0-9]{2}:[0-9]{2} UTC</time> <small>\((just now|[0-9]+ minutes? ago)\)</small></td>' "$T/body"
check "no date as 2026-12-01 or December 1, 2026 in the text" dates_in_words
check "no raw action keys in the rows" sh -c "! grep -q '(team_member\.\|(workspace\.\|(api_key\.' '$T/body'"
check "the action filter offers labels, grouped" sh -c "grep -q '<optgroup label=\"Team\"><option value=\"team_member.invited\">Invitation sent</option>' '$T/body' && ! grep -q '>team_member.invited<' '$T/body'"
check "newest first: the key before the role change" sh -c "awk '/created the API key/{k=NR} /changed member@example.com/{r=NR} END{exit !(k && r && k < r)}' '$T/body'"
check "admin: valid HTML" tidy_ok

# --- Filters ---------------------------------------------------------------------
get admin "$P?action=workspace.renamed"
is "filter by action: 200" "$STATUS" 200
is "... only renames" "$(grep -c 'renamed the workspace from' "$T/body")/$(grep -c '<time datetime' "$T/body")" "2/2"
check "... the choice stays selected" body_has '<option value="workspace.renamed" selected>'
get admin "$P?actor=$ADMIN_USER"
is "filter by person: only the admin's" "$(grep -c 'Admin User renamed' "$T/body")/$(grep -c '<time datetime' "$T/body")" "2/2"
today=$(date -u +%Y-%m-%d)
get admin "$P?from=$today&to=$today"
is "filter by today's date: every row" "$(grep -c '<time datetime' "$T/body")" 4
get admin "$P?from=2001-01-01&to=2001-12-31"
check "a range without entries says so" body_has 'No entries match these filters.'
get admin "$P?action=&actor=&from=&to="
is "empty filters are no filters: 200" "$STATUS" 200
for bad in "from=2026-02-30" "from=yesterday" "to=2026-13-01" "action=DROP%20TABLE" "action=a.b.c" "actor=42" "from=2026-05-02&to=2026-05-01"; do
	get admin "$P?$bad"
	is "bad filter $bad: 422" "$STATUS" 422
done
check "... the message by the field" body_has 'id="to-error"'
get admin "$P?before=garbage"
is "a malformed cursor: 400" "$STATUS" 400
check "... the page leads back to the newest entries" body_has '<a href="/w/acme/settings/audit">Back to the newest entries of the audit log</a>'
get admin "$P?action=%3Cscript%3E.x"
is "markup in a filter: 422" "$STATUS" 422
check "... never echoed raw" sh -c "! grep -q '<script>' '$T/body'"

# --- Keyset paging over 130 more rows ------------------------------------------------
sql "INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, changes, created_at)
     SELECT '$ACME', '$ADMIN_USER', 'team_member.invited', 'team_member',
            jsonb_build_object('email', 'bulk' || g || '@example.com', 'role', 'viewer'),
            now() - interval '1 day' - g * interval '1 minute'
       FROM generate_series(1, 130) g" >/dev/null
seen=""
page="$P?action=team_member.invited"
for i in 1 2 3 4; do
	get admin "$page"
	rows=$(grep -o 'invited bulk[0-9]*@example.com' "$T/body" | tr '\n' ' ')
	seen="$seen$rows"
	next=$(sed -n 's/.*href="\([^"]*\)" rel="next".*/\1/p' "$T/body" | sed 's/&amp;/\&/g')
	[ -n "$next" ] || break
	page=$next
done
is "no row twice, none skipped, newest first" "$(printf '%s' "$seen" | grep -o 'bulk[0-9]*' | sed 's/bulk//' | tr '\n' ' ')" "$(seq 1 130 | tr '\n' ' ')"
check "a later page links back to the newest" body_has 'Newest entries'
check "an invitation's role with its article" grep -q 'invited bulk[0-9]*@example.com as a viewer' "$T/body"
check "a day-old entry says so beside its moment" grep -Eq '</time> <small>\(1 day ago\)</small>' "$T/body"
check "the cursor link keeps the filter" sh -c "grep -q 'action=team_member.invited&amp;before=' '$T/body' || [ $i -eq 3 ]"

# --- CSV --------------------------------------------------------------------------------
get admin "$P.csv?action=workspace.renamed"
is "CSV: 200" "$STATUS" 200
is "CSV: text/csv" "$(header Content-Type)" "text/csv; charset=utf-8"
check "CSV: an attachment with a file name" sh -c "tr -d '\r' <'$T/headers' | grep -Eiq '^Content-Disposition: attachment; filename=\"audit-acme-[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv\"$'"
check "CSV: streamed (no Content-Length)" sh -c "! grep -qi '^Content-Length:' '$T/headers'"
is "CSV: the header line" "$(head -1 "$T/body" | tr -d '\r')" "time_utc,actor_email,actor_name,action,resource_type,resource_id,summary,ip_address,user_agent,changes"
is "CSV: only the filtered rows" "$(python3 -c "import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=''))); print(len(r)-1, set(x[3] for x in r[1:]))" "$T/body")" "2 {'workspace.renamed'}"
check "CSV: times stay ISO 8601 (UTC)" sh -c "sed -n 2p '$T/body' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z,'"
check "CSV: lines end in CRLF" sh -c "head -1 '$T/body' | od -c | grep -q '\\\\r  \\\\n'"
python3 - "$T/body" >"$T/csvcheck" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))[1:]
for r in rows:
    print(r[6])
    print(r[8])
PY
check "CSV: a name with a comma and quotes survives RFC 4180 quoting" grep -qF 'renamed the workspace from “Acme Corp” to “Acme, "Quoted" Corp”' "$T/csvcheck"
check "CSV: no cell starts with = + - @" sh -c "python3 -c \"import csv,sys; rows=list(csv.reader(open(sys.argv[1], newline=''))); sys.exit(any(c[:1] in '=+-@' and c for r in rows for c in r))\" '$T/body'"
check "CSV: the formula user agent is defused with a leading apostrophe" grep -qF "'=cmd|' /C calc'!A0" "$T/csvcheck"
check "CSV: the formula name inside the summary is plain text" grep -qF 'to “=HYPERLINK(' "$T/csvcheck"
get admin "$P.csv"
is "CSV of the whole log: every row" "$(python3 -c "import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline=''))))-1)" "$T/body")" "$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'")"
check "CSV: no token or key hash anywhere" sh -c "! grep -Eq '[0-9a-f]{64}' '$T/body'"
get admin "$P.csv?from=2026-02-30"
is "CSV with a bad filter: 422" "$STATUS" 422

# --- Every action in words, the page as the export --------------------------------------
# One entry of each kind on a leap day; the page reads only the details its sentence needs,
# the export the whole row: their sentences and times must be the same, in the same order.
sql "INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, changes, ip_address, created_at)
     SELECT '$ACME', CASE WHEN a IN ('billing.stripe_event_applied', 'billing.cycle_rolled_over')
                          THEN NULL ELSE '$ADMIN_USER'::uuid END,
            a, coalesce(t, 'team_member'), c::jsonb, '10.1.2.3',
            '2024-02-29 23:59:59.999999+00'::timestamptz - (o - 1) * interval '61 seconds'
       FROM (VALUES
         (1, 'team_member.invited', NULL, '{\"email\": \"new@example.com\", \"role\": \"admin\"}'),
         (2, 'team_member.invitation_accepted', NULL, '{\"role\": \"viewer\"}'),
         (3, 'team_member.invitation_resent', NULL, '{\"email\": \"again@example.com\"}'),
         (4, 'team_member.invitation_revoked', NULL, '{\"email\": \"gone@example.com\"}'),
         (5, 'team_member.role_changed', NULL, '{\"email\": \"m@example.com\", \"old_role\": \"viewer\", \"new_role\": \"member\"}'),
         (6, 'team_member.deactivated', NULL, '{\"email\": \"d@example.com\"}'),
         (7, 'team_member.reactivated', NULL, '{\"email\": \"r@example.com\"}'),
         (8, 'team_member.removed', NULL, '{\"email\": \"x@example.com\"}'),
         (9, 'team_member.left', NULL, '{}'),
         (10, 'workspace.renamed', 'workspace', '{\"old\": {\"name\": \"Old <b>\"}, \"new\": {\"name\": \"New & Co\"}}'),
         (11, 'workspace.deleted', 'workspace', '{}'),
         (12, 'workspace.restored', 'workspace', '{}'),
         (13, 'api_key.created', 'api_key', '{\"name\": \"CI\", \"key_prefix\": \"sk_live_ab12cd34\"}'),
         (14, 'api_key.revoked', 'api_key', '{\"name\": \"CI\"}'),
         (15, 'billing.plan_changed', 'billing', '{\"old\": {\"plan_type\": \"free\"}, \"new\": {\"plan_type\": \"professional\"}}'),
         (16, 'billing.plan_changed', 'billing', '{\"billing_cycle\": \"yearly\"}'),
         (17, 'billing.cancellation_requested', 'billing', '{}'),
         (18, 'billing.cancellation_withdrawn', 'billing', '{}'),
         (19, 'billing.cycle_rolled_over', 'billing', '{}'),
         (20, 'billing.subscription_ended', 'billing', '{}'),
         (21, 'billing.stripe_event_applied', 'billing', '{\"stripe_event_type\": \"invoice.payment_failed\"}'),
         (22, 'integration.created', 'integration', '{\"new\": {\"integration_name\": \"Pager\"}}'),
         (23, 'integration.updated', 'integration', '{\"old\": {\"integration_name\": \"Hook\"}, \"new\": {\"integration_name\": \"Hook 2\"}}'),
         (24, 'integration.enabled', 'integration', '{\"integration_name\": \"Slack\"}'),
         (25, 'integration.deleted', 'integration', '{\"name\": \"Old hook\"}'),
         (26, 'integration.tested', 'integration', '{\"integration_name\": \"Datadog\"}'),
         (27, 'custom.thing', 'widget', '{\"email\": \"not@shown.example\"}')
       ) v(o, a, t, c)" >/dev/null
get admin "$P?from=2024-02-29&to=2024-02-29"
is "every action: 27 entries on the page" "$(grep -c '<time datetime' "$T/body")" 27
cp "$T/body" "$T/page-words.html"
get admin "$P.csv?from=2024-02-29&to=2024-02-29"
cp "$T/body" "$T/csv-words.csv"
python3 - "$T/page-words.html" "$T/csv-words.csv" >"$T/words-diff" <<'PY'
import csv, html, re, sys
page = open(sys.argv[1]).read()
cells = re.findall(r'<time datetime="([^"]+)">[^<]*</time>.*?</td>\s*<td>(.*?)</td>', page, re.S)
rows = list(csv.reader(open(sys.argv[2], newline='')))[1:]
want = [(r[0], r[6].lstrip("'")) for r in rows]
got = [(t, html.unescape(s)) for t, s in cells]
for g, w in zip(got, want):
    if g != w:
        print("page", g, "export", w)
if len(got) != len(want):
    print("page", len(got), "export", len(want))
PY
is "every action: the page says what the export says, at the same times, in the same order" "$(cat "$T/words-diff")" ""
check "... the newest at the last microsecond of the leap day, to the second" body_has '2024-02-29T23:59:59Z,'
get admin "$P?from=2024-02-29&to=2024-02-29"
check "... Stripe's entry in words without a person" body_has 'Stripe reported a failed payment'
check "... an entry without a person is the system's" body_has 'The system closed the billing cycle'
check "... an action the page does not know, by its resource" body_has 'Admin User: custom.thing on widget'
check "... names from the changes escaped" body_has 'renamed the workspace from “Old &lt;b&gt;” to “New &amp; Co”'
check "... the leap day in words" body_has '>29 February 2024, 23:59 UTC</time>'

# --- Across workspaces -----------------------------------------------------------------------
login g owner@globex.example
get g $P
is "Globex owner on Acme's log: 404" "$STATUS" 404
get g $P.csv
is "Globex owner on Acme's CSV: 404" "$STATUS" 404
get g /w/globex/settings/audit.csv
is "Globex's own CSV: 200" "$STATUS" 200
check "... without Acme's rows" sh -c "! grep -q 'bulk1@example.com' '$T/body'"
get g "/w/globex/settings/audit?actor=$ADMIN_USER"
is "Globex filtering by an Acme person: 200, nothing" "$(grep -c '<time datetime' "$T/body")" 0
