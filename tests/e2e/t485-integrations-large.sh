#!/bin/sh
# t485-integrations-large.sh: a workspace with many integrations: the list
# pages like the team page (25 a page, "Page N of M" with previous and next),
# a ceiling on integrations of every type (SETTINGS_INTEGRATIONS_MAX,
# default 100: 409 with a message beyond it), and a worker's memory stays
# flat over repeated views of a full page.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
login demo demo@example.com
login viewer viewer@example.com

sql "INSERT INTO integrations_config (workspace_id, integration_type, integration_name, config_data, is_enabled)
     SELECT '$ACME', 'slack', 'Bulk ' || lpad(n::text, 3, '0'),
            jsonb_build_object('channel_id', 'C0BULK' || lpad(n::text, 4, '0'), 'channel_name', '#bulk'), true
       FROM generate_series(1, 120) n" >/dev/null
articles() { grep -c 'class="panel integration"' "$T/body"; }

get viewer "$I"
is "page 1: 200" "$STATUS" 200
is "page 1: 25 integrations" "$(articles)" 25
check "page 1: Page 1 of 5, above and below" test "$(grep -c 'Page 1 of 5' "$T/body")" = 2
check "page 1: a next link, no previous" sh -c "grep -qF 'href=\"$I?page=2\"' '$T/body' && ! grep -qF 'rel=\"prev\"' '$T/body'"
check "page 1: valid HTML" tidy_ok
get viewer "$I?page=5"
is "page 5: the last 24" "$(articles)" 24
check "page 5: previous link, no next" sh -c "grep -qF 'href=\"$I?page=4\"' '$T/body' && ! grep -qF 'rel=\"next\"' '$T/body'"
get viewer "$I?page=9"
is "past the end: 200 with a way back" "$STATUS|$(articles)" "200|0"
check "past the end: says so" body_has "There are no integrations on this page."
get viewer "$I?page=abc"
is "page=abc: 400" "$STATUS" 400
get viewer "$I?page=0"
is "page=0: 400" "$STATUS" 400

# The ceiling: 124 integrations, at most 100.
n0=$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME'")
post demo "$I" integration_type=slack integration_name=OneMore channel_id=C0AAAA1111 bot_token=xoxb-424242424242-SlackBotPlaintext
is "beyond the ceiling: 409" "$STATUS" 409
check "409 says why" body_has "the most it may have"
is "beyond the ceiling: nothing added" "$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME'")" "$n0"
sql "DELETE FROM integrations_config WHERE workspace_id = '$ACME' AND integration_name LIKE 'Bulk %' AND integration_name > 'Bulk 095'" >/dev/null
post demo "$I" integration_type=slack integration_name=OneMore channel_id=C0AAAA1111 bot_token=xoxb-424242424242-SlackBotPlaintext
is "below the ceiling (99): created" "$STATUS" 303
post demo "$I" integration_type=slack integration_name=TwoMore channel_id=C0AAAA1111 bot_token=xoxb-424242424242-SlackBotPlaintext
is "at the ceiling (100): 409" "$STATUS" 409

# Memory: the workers' RSS over 40 views of a full page stays flat.
rss() { master=$(cat "$VAR/run/integrations.pid"); total=0; for p in $(pgrep -P "$master"); do r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status"); total=$((total + r)); done; echo "$total"; }
for i in 1 2 3 4; do get viewer "$I"; done
before=$(rss)
for i in $(seq 1 40); do get viewer "$I?page=$((i % 4 + 1))"; done
after=$(rss)
check "RSS flat over 40 full pages (${before} kB -> ${after} kB, < +2 MB)" test $((after - before)) -lt 2048
