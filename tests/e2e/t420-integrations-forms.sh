#!/bin/sh
# t420-integrations-forms.sh: create and edit for every type; each validation
# rule answers 422 with the input kept, the error next to its field and no
# secret echoed; duplicate names and the plan's limit answer 409; nothing
# changes on a refusal; every change writes its audit row.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"

TOKEN=xoxb-111122223333-TopSecretBotToken
login demo demo@example.com

rows() { sql "SELECT count(*) FROM integrations_config"; }

# bad DESC FIELD MESSAGE field=value...: a create refused with 422 on FIELD.
bad() {
	d=$1; f=$2; m=$3; shift 3
	n0=$(rows)
	post demo "$I" "$@"
	is "$d: 422" "$STATUS" 422
	check "$d: message next to $f" grep -qF "<span class=\"field-error\" id=\"e-$f\">$m" "$T/body"
	check "$d: $f described by its error" grep -qE "id=\"f-$f\"[^>]*aria-describedby=\"[^\"]*e-$f\"" "$T/body"
	check "$d: in the error summary" grep -qF "<li><a href=\"#f-$f\">$m" "$T/body"
	is "$d: nothing stored" "$(rows)" "$n0"
}
# kept VALUE: the re-shown form carries VALUE in a value attribute.
kept() { check "input kept: $1" grep -qF "value=\"$1\"" "$T/body"; }

SLACK_OK="integration_type=slack channel_id=C01234567 channel_name=#ops workspace_url=https://acme-corp.slack.com bot_token=$TOKEN"

# --- Slack
# shellcheck disable=SC2086
bad "slack: empty name" integration_name "Enter a name" $SLACK_OK integration_name=
bad "slack: name with a control character" integration_name "Use at most 256" integration_type=slack "integration_name=$(printf 'a\tb')" channel_id=C01234567 bot_token=$TOKEN
bad "slack: name over 256" integration_name "Use at most 256" integration_type=slack "integration_name=$(printf '%0257d' 0)" channel_id=C01234567 bot_token=$TOKEN
bad "slack: channel id lowercase" channel_id "A Slack channel ID" integration_type=slack integration_name=Ops channel_id=c01234567 bot_token=$TOKEN
kept c01234567
check "slack 422: the valid secret is not echoed" sh -c "! grep -qF '$TOKEN' '$T/body'"
check "slack 422: asked to type the secret again" body_has "The value you typed was not kept"
bad "slack: channel id with X" channel_id "A Slack channel ID" integration_type=slack integration_name=Ops channel_id=X01234567 bot_token=$TOKEN
bad "slack: channel id too short" channel_id "A Slack channel ID" integration_type=slack integration_name=Ops channel_id=C0123 bot_token=$TOKEN
bad "slack: channel id too long" channel_id "A Slack channel ID" integration_type=slack integration_name=Ops channel_id=C0123456789012 bot_token=$TOKEN
bad "slack: channel id missing" channel_id "Enter the channel ID" integration_type=slack integration_name=Ops bot_token=$TOKEN
bad "slack: channel name with spaces" channel_name "Channel names use" integration_type=slack integration_name=Ops channel_id=C01234567 "channel_name=#Bad Name" bot_token=$TOKEN
bad "slack: workspace URL not slack.com" workspace_url "Enter your Slack workspace address" integration_type=slack integration_name=Ops channel_id=C01234567 workspace_url=https://example.com bot_token=$TOKEN
bad "slack: workspace URL over http" workspace_url "Enter your Slack workspace address" integration_type=slack integration_name=Ops channel_id=C01234567 workspace_url=http://acme.slack.com bot_token=$TOKEN
bad "slack: bot token without xoxb-" bot_token "A Slack bot token starts with xoxb-" integration_type=slack integration_name=Ops channel_id=C01234567 bot_token=abc-not-a-token
check "slack 422: the bad secret is not echoed" sh -c "! grep -qF 'abc-not-a-token' '$T/body'"
bad "slack: bot token missing" bot_token "Enter the Bot token" integration_type=slack integration_name=Ops channel_id=C01234567
post demo "$I" integration_type=nonsense integration_name=Ops
is "unknown type: 422 with the type chooser" "$STATUS" 422
check "unknown type: the chooser" sh -c "grep -qF 'new?type=slack' '$T/body' && grep -qF 'not a type of integration' '$T/body'"

# shellcheck disable=SC2086
post demo "$I" integration_name=Ops $SLACK_OK "alert_types=error_spike" "alert_types=latency_high" severity_min=warning agents=customer_support agents=sales_agent rate_limit_per_minute=30 max_retries=5 backoff=linear
is "slack: created, 303" "$STATUS" 303
is "slack: back to the list" "$(location)" "$I"
case "$(header Set-Cookie)" in notice=*) ok "slack: notice set" ;; *) notok "slack: notice set" "$(header Set-Cookie)" ;; esac
SID=$(new_id)
is "slack: stored settings" "$(sql "SELECT integration_type, integration_name, config_data->>'channel_id', config_data->>'channel_name', config_data->>'workspace_url', rate_limit_per_minute, retry_config->>'max_retries', retry_config->>'backoff', event_filters->>'severity_min', event_filters->'alert_types', event_filters->'agents', is_enabled FROM integrations_config WHERE id = '$SID'")" \
	'slack|Ops|C01234567|#ops|https://acme-corp.slack.com|30|5|linear|warning|["error_spike", "latency_high"]|["customer_support", "sales_agent"]|t'
is "slack: secret encrypted under the current key" "$(sql "SELECT encryption_key_id IS NOT NULL AND length(credentials_encrypted) > 40 AND position('TopSecret' IN credentials_encrypted) = 0 FROM integrations_config WHERE id = '$SID'")" t
is "slack: no secret in config_data" "$(sql "SELECT position('TopSecret' IN config_data::text) FROM integrations_config WHERE id = '$SID'")" 0
is "slack: who set the secret" "$(sql "SELECT credentials_meta->'bot_token'->>'set_by' FROM integrations_config WHERE id = '$SID'")" 00000000-0000-0000-0000-000000000001
is "slack: created and updated by" "$(sql "SELECT created_by, updated_by FROM integrations_config WHERE id = '$SID'")" "00000000-0000-0000-0000-000000000001|00000000-0000-0000-0000-000000000001"
is "slack: audit row, secret redacted" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'integration.created' AND resource_id = '$SID' AND changes->'new'->>'credentials' = '[redacted]' AND changes->'secrets_changed' = '[\"bot_token\"]' AND position('TopSecret' IN changes::text) = 0 AND user_id = '00000000-0000-0000-0000-000000000001'")" 1
get demo "$I"
check "list: the new integration with its secret set by someone, never the secret" sh -c "grep -qF 'Bot token: <strong>set</strong> by Demo Owner' '$T/body' && ! grep -qF 'TopSecret' '$T/body'"
get demo "$I/$SID"
check "edit form: secret status, never the secret" sh -c "grep -qF 'Set by Demo Owner' '$T/body' && ! grep -qF 'TopSecret' '$T/body'"
check "edit form: filters checked" sh -c "grep -qF 'value=\"error_spike\" checked' '$T/body' && grep -qF 'value=\"customer_support\" checked' '$T/body' && ! grep -qF 'value=\"research_assistant\" checked' '$T/body'"
check "edit form: severity selected" body_has '<option value="warning" selected>'

# --- Uniqueness per workspace and type: 409, form re-shown.
# shellcheck disable=SC2086
{ n0=$(rows); post demo "$I" "integration_name=Engineering Alerts" $SLACK_OK; }
is "duplicate slack name: 409" "$STATUS" 409
check "duplicate slack name: said next to the name" grep -qF 'id="e-integration_name">This workspace already has a Slack integration with this name' "$T/body"
kept "Engineering Alerts"
is "duplicate: nothing stored" "$(rows)" "$n0"
post demo "$I" "integration_name=Engineering Alerts" integration_type=pagerduty service_id=PABC123 routing_key=abcdefghijklmnopqrstuvwxyz012345
is "same name, other type: allowed" "$STATUS" 303
PID=$(new_id)
post demo "$I/$SID" "integration_name=Engineering Alerts" channel_id=C01234567
is "rename onto an existing name: 409" "$STATUS" 409
is "rename refused: name unchanged" "$(sql "SELECT integration_name FROM integrations_config WHERE id = '$SID'")" Ops

# --- PagerDuty
bad "pagerduty: service id" service_id "A PagerDuty service ID" integration_type=pagerduty integration_name=PD service_id=XYZ routing_key=abcdefghijklmnopqrstuvwxyz012345
bad "pagerduty: routing key length" routing_key "A PagerDuty routing key is 32" integration_type=pagerduty integration_name=PD service_id=PABC123 routing_key=short
is "pagerduty: stored" "$(sql "SELECT config_data->>'service_id', config_data ? 'service_name' FROM integrations_config WHERE id = '$PID'")" "PABC123|f"

# --- Webhook (this stack allows http and private addresses; the https rule is in t440)
HOOK_OK="integration_type=webhook url=https://hooks.example.com/in method=PUT auth_type=hmac timeout_ms=2500 secret=0123456789abcdef-signing"
bad "webhook: URL not http(s)" url "The URL must start with https://" integration_type=webhook integration_name=H url=ftp://example.com/x method=POST auth_type=none
bad "webhook: URL malformed" url "The URL may not contain spaces" integration_type=webhook integration_name=H "url=not a url" method=POST auth_type=none
bad "webhook: URL with credentials" url "The URL may not contain a user name" integration_type=webhook integration_name=H url=https://u:p@example.com/x method=POST auth_type=none
bad "webhook: URL missing" url "Enter the URL" integration_type=webhook integration_name=H method=POST auth_type=none
bad "webhook: method GET" method "Choose POST or PUT" integration_type=webhook integration_name=H url=https://example.com/x method=GET auth_type=none
bad "webhook: auth basic" auth_type "Choose none, bearer token or HMAC" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=basic
bad "webhook: timeout 99" timeout_ms "Enter a whole number of milliseconds from 100 to 30000" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=none timeout_ms=99
kept 99
bad "webhook: timeout 30001" timeout_ms "Enter a whole number of milliseconds" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=none timeout_ms=30001
bad "webhook: timeout not a number" timeout_ms "Enter a whole number of milliseconds" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=none timeout_ms=5s
bad "webhook: timeout longer than its field" timeout_ms "Enter a whole number of milliseconds" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=none timeout_ms=12345678901234567
bad "webhook: hmac secret too short" secret "An HMAC secret is 16 to 1024" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=hmac secret=short-secret
bad "webhook: bearer token with a space" secret "A bearer token is 1 to 4096" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=bearer "secret=has space"
bad "webhook: hmac without secret" secret "Enter the secret" integration_type=webhook integration_name=H url=https://example.com/x method=POST auth_type=hmac
# shellcheck disable=SC2086
post demo "$I" integration_name=Hook $HOOK_OK
is "webhook: created" "$STATUS" 303
HID=$(new_id)
is "webhook: stored, timeout a number" "$(sql "SELECT config_data->>'url', config_data->>'method', config_data->>'auth_type', jsonb_typeof(config_data->'timeout_ms'), config_data->>'timeout_ms' FROM integrations_config WHERE id = '$HID'")" "https://hooks.example.com/in|PUT|hmac|number|2500"
post demo "$I" integration_name=Edge integration_type=custom url=https://example.com/x method=POST auth_type=none timeout_ms=100 max_retries=0
is "custom: timeout 100 and 0 retries accepted" "$STATUS" 303
post demo "$I" integration_name=Edge2 integration_type=custom url=https://example.com/x method=POST auth_type=bearer secret=t timeout_ms=30000 max_retries=10 rate_limit_per_minute=10000
is "custom: timeout 30000, 10 retries, rate 10000 accepted" "$STATUS" 303

# --- Sentry
SENTRY="integration_type=sentry integration_name=S environment=production dsn=https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/4501"
# shellcheck disable=SC2086
{
bad "sentry: sample rate 1.5" sample_rate "Enter a number from 0 to 1" $SENTRY sample_rate=1.5 traces_sample_rate=0.1
bad "sentry: sample rate negative" sample_rate "Enter a number from 0 to 1" $SENTRY sample_rate=-0.1 traces_sample_rate=0.1
bad "sentry: sample rate text" sample_rate "Enter a number from 0 to 1" $SENTRY sample_rate=half traces_sample_rate=0.1
bad "sentry: traces rate 7 decimals" traces_sample_rate "Enter a number from 0 to 1" $SENTRY sample_rate=1 traces_sample_rate=0.1234567
bad "sentry: traces rate 1.01" traces_sample_rate "Enter a number from 0 to 1" $SENTRY sample_rate=1 traces_sample_rate=1.01
bad "sentry: environment with a space" environment "Sentry environment names" integration_type=sentry integration_name=S "environment=prod env" sample_rate=1 traces_sample_rate=0 dsn=https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/4501
bad "sentry: dsn malformed" dsn "Enter the DSN" integration_type=sentry integration_name=S environment=production sample_rate=1 traces_sample_rate=0 dsn=https://sentry.io/4501
bad "sentry: dsn missing" dsn "Enter the DSN" integration_type=sentry integration_name=S environment=production sample_rate=1 traces_sample_rate=0
post demo "$I" $SENTRY sample_rate=.5 traces_sample_rate=0
}
is "sentry: rates .5 and 0 accepted" "$STATUS" 303
is "sentry: rates stored as numbers" "$(sql "SELECT config_data->'sample_rate', config_data->'traces_sample_rate' FROM integrations_config WHERE id = '$(new_id)'")" "0.5|0"

# --- Datadog
DD="integration_type=datadog integration_name=D service_name=agents-api api_key=0123456789abcdef0123456789abcdef"
# shellcheck disable=SC2086
{
bad "datadog: site not in the list" site "Choose one of the Datadog sites" $DD site=example.com
bad "datadog: service name capitals" service_name "Datadog service names" integration_type=datadog integration_name=D site=datadoghq.eu service_name=Agents api_key=0123456789abcdef0123456789abcdef
bad "datadog: api key 31 characters" api_key "A Datadog API key is 32" integration_type=datadog integration_name=D site=datadoghq.eu service_name=agents api_key=0123456789abcdef0123456789abcde
bad "datadog: app key not hex" app_key "A Datadog application key is 40" $DD site=datadoghq.eu app_key=zzzz
post demo "$I" $DD site=datadoghq.eu app_key=0123456789abcdef0123456789abcdef01234567
}
is "datadog: created" "$STATUS" 303
is "datadog: site stored" "$(sql "SELECT config_data->>'site', config_data->>'service_name' FROM integrations_config WHERE id = '$(new_id)'")" "datadoghq.eu|agents-api"

# --- Common fields
C="integration_type=custom integration_name=C url=https://example.com/x method=POST auth_type=none"
# shellcheck disable=SC2086
{
bad "alert type unknown" alert_types "Choose alert types from the list" $C alert_types=nope
bad "all combined with a type" alert_types "“All alert types” cannot be combined" $C alert_types=all alert_types=error_spike
bad "severity unknown" severity_min "Choose a minimum severity" $C severity_min=extreme
bad "agent not in the workspace" agents "Choose agents from this workspace" $C agents=ghost_agent
bad "rate limit 0" rate_limit_per_minute "Enter a whole number of events per minute" $C rate_limit_per_minute=0
bad "rate limit 10001" rate_limit_per_minute "Enter a whole number of events per minute" $C rate_limit_per_minute=10001
bad "max retries 11" max_retries "Enter a whole number of retries from 0 to 10" $C max_retries=11
bad "max retries negative" max_retries "Enter a whole number of retries" $C max_retries=-1
bad "backoff unknown" backoff "Choose none, linear or exponential" $C backoff=random
}

# --- Edit: blank secret keeps it; a new one replaces it; type cannot change.
ct0=$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$SID'")
meta0=$(sql "SELECT credentials_meta FROM integrations_config WHERE id = '$SID'")
post demo "$I/$SID" integration_name="Ops alerts" channel_id=G0123456789 channel_name= bot_token= severity_min= max_retries=2 backoff=none
is "edit: 303" "$STATUS" 303
is "edit: stored" "$(sql "SELECT integration_name, config_data->>'channel_id', config_data ? 'channel_name', event_filters ? 'severity_min', event_filters ? 'alert_types', retry_config->>'max_retries', retry_config->>'backoff', rate_limit_per_minute IS NULL FROM integrations_config WHERE id = '$SID'")" "Ops alerts|G0123456789|f|f|f|2|none|t"
is "edit with a blank secret: ciphertext untouched" "$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$SID'")" "$ct0"
is "edit with a blank secret: who/when untouched" "$(sql "SELECT credentials_meta FROM integrations_config WHERE id = '$SID'")" "$meta0"
is "edit: audit row with old and new, no secret changed" "$(sql "SELECT changes->'old'->>'integration_name', changes->'new'->>'integration_name', changes->'secrets_changed' FROM audit_logs WHERE action = 'integration.updated' AND resource_id = '$SID'")" 'Ops|Ops alerts|[]'
login admin admin@example.com
post admin "$I/$SID" integration_name="Ops alerts" channel_id=G0123456789 bot_token=xoxb-999988887777-ReplacedToken
is "edit by an admin with a new secret: 303" "$STATUS" 303
check "new secret: ciphertext replaced" test "$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$SID'")" != "$ct0"
is "new secret: set by the admin" "$(sql "SELECT credentials_meta->'bot_token'->>'set_by' FROM integrations_config WHERE id = '$SID'")" 10000000-0000-0000-0000-000000000002
is "new secret: audited as changed, redacted" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'integration.updated' AND resource_id = '$SID' AND changes->'secrets_changed' = '[\"bot_token\"]' AND position('ReplacedToken' IN changes::text) = 0")" 1
get admin "$I"
check "list: secret now set by Admin User" body_has "Bot token: <strong>set</strong> by Admin User"
post admin "$I/$SID" integration_type=webhook integration_name="Ops alerts" channel_id=G0123456789
is "edit: changing the type is refused" "$STATUS" 422
check "edit: type message" body_has "The type of an integration cannot be changed"
bad_edit_n=$(sql "SELECT count(*) FROM audit_logs WHERE resource_id = '$SID'")
post admin "$I/$SID" integration_name="Ops alerts" channel_id=nope bot_token=xoxb-555566667777-AnotherToken
is "edit: bad input 422" "$STATUS" 422
check "edit 422: form action still the update" body_has "action=\"$I/$SID\""
check "edit 422: secret status still shown, typed secret not" sh -c "grep -qF 'Set by Admin User' '$T/body' && ! grep -qF 'AnotherToken' '$T/body'"
is "edit 422: nothing audited" "$(sql "SELECT count(*) FROM audit_logs WHERE resource_id = '$SID'")" "$bad_edit_n"

# A stored severity outside today's list (the seeded PagerDuty "high") survives a re-save.
get demo "$I/30000000-0000-0000-0000-000000000002"
check "legacy severity offered as the current setting" body_has '<option value="high" selected>high (current setting)</option>'
post demo "$I/30000000-0000-0000-0000-000000000002" "integration_name=Production Incidents" service_id=PSERVICE123 "service_name=AI Agent Platform" severity_min=high alert_types=budget_exceeded alert_types=system_down routing_key=abcdefghijklmnopqrstuvwxyz012345
is "legacy severity kept on save" "$STATUS" 303
is "legacy severity and unknown config keys kept" "$(sql "SELECT event_filters->>'severity_min', config_data->'severity_mapping'->>'high' FROM integrations_config WHERE id = '30000000-0000-0000-0000-000000000002'")" "high|error"
post demo "$I/30000000-0000-0000-0000-000000000002" "integration_name=Production Incidents" service_id=PSERVICE123 severity_min=extreme
is "another unknown severity refused" "$STATUS" 422

# --- The plan's limit on webhook and custom integrations (Acme: professional, 5).
is "acme now has 4 webhook/custom" "$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND integration_type IN ('webhook','custom')")" 4
post demo "$I" integration_type=webhook integration_name=Fifth url=https://example.com/5 method=POST auth_type=none
is "5th webhook/custom: allowed" "$STATUS" 303
get demo "$I/new?type=custom"
check "form warns at the limit" body_has "saving will be refused"
n0=$(rows)
post demo "$I" integration_type=custom integration_name=Sixth url=https://example.com/6 method=POST auth_type=none
is "6th webhook/custom: 409" "$STATUS" 409
check "6th: the limit explained" body_has "Your plan allows 5 webhook and custom integrations"
kept Sixth
is "6th: nothing stored" "$(rows)" "$n0"
post demo "$I" $SLACK_OK integration_name=Other
is "other types are not limited" "$STATUS" 303
sql "UPDATE billing_config SET custom_integrations_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
post demo "$I" integration_type=custom integration_name=Sixth url=https://example.com/6 method=POST auth_type=none
is "unlimited plan (NULL limit): allowed" "$STATUS" 303
login globex owner@globex.example
sql "UPDATE billing_config SET plan_type = 'free', custom_integrations_limit = 0 WHERE workspace_id = '$GLOBEX'" >/dev/null
post globex /w/globex/settings/integrations integration_type=webhook integration_name=G url=https://example.com/g method=POST auth_type=none
is "free plan (limit 0): 409" "$STATUS" 409
is "free plan: nothing stored" "$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$GLOBEX'")" 1

is "no audit row mentions a plaintext secret" "$(sql "SELECT count(*) FROM audit_logs WHERE changes::text ~ '(TopSecret|ReplacedToken|signing|0123456789abcdef0123456789abcdef)'")" 0

# --- Races: concurrent creates cannot overshoot the limit or duplicate a name.
login demo demo@example.com
tok=$(csrf demo)
used=$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND integration_type IN ('webhook','custom')")
sql "UPDATE billing_config SET custom_integrations_limit = $((used + 1)) WHERE workspace_id = '$ACME'" >/dev/null
race() { # race TAG NAME...: one concurrent create per name; prints the status counts
	tag=$1; shift
	k=0
	for name in "$@"; do
		k=$((k + 1))
		curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/demo.jar" --data-urlencode "csrf_token=$tok" \
			--data-urlencode integration_type=custom --data-urlencode "integration_name=$name" \
			--data-urlencode url=https://example.com/race --data-urlencode method=POST \
			--data-urlencode auth_type=none "$BASE$I" >"$T/race.$tag.$k" &
	done
	wait
	cat "$T"/race."$tag".* | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $2, $1; sep=" " }'
}
is "6 concurrent creates for 1 free slot: one 303, five 409" "$(race limit r1 r2 r3 r4 r5 r6)" "303×1 409×5"
is "the limit holds" "$(sql "SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME' AND integration_type IN ('webhook','custom')")" $((used + 1))
sql "UPDATE billing_config SET custom_integrations_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
is "5 concurrent creates of one name: one 303, four 409" "$(race same Twin Twin Twin Twin Twin)" "303×1 409×4"
is "one Twin stored" "$(sql "SELECT count(*) FROM integrations_config WHERE integration_name = 'Twin'")" 1
