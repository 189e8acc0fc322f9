#!/bin/sh
# t480-integrations-health.sh: `delivery --check-health` checks what can be
# checked without sending an alert (Slack auth.test, Datadog key validation,
# a webhook's reachability through the SSRF guard), sets health, time and
# message; an integration without its secret is "unknown" and says what is
# missing (the seeded Slack integration is never "healthy" without a token).
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
login demo demo@example.com

health() { sql "SELECT health_status || '|' || coalesce(health_check_message, '') FROM integrations_config WHERE id = '$1'"; }
check_health() {
	env SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE="$RECV" \
		DATABASE_URL="$(APP_URL)" SETTINGS_CREDENTIALS_KEYS="$SETTINGS_CREDENTIALS_KEYS" \
		"${BUILD:-$ROOT/build}/bin/delivery" --check-health >"$T/health.out" 2>&1
}
SLACK=30000000-0000-0000-0000-000000000001

is "seed: Slack without a bot token is not healthy" "$(health "$SLACK")" "unknown|No bot token set: nothing can be delivered until it is."
post demo "$I" integration_type=slack integration_name=Chat channel_id=C0AAAA1111 bot_token=xoxb-424242424242-SlackBotPlaintext
SL=$(new_id)
post demo "$I" integration_type=datadog integration_name=Metrics site=datadoghq.com service_name=agents api_key=d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0
DD=$(new_id)
post demo "$I" integration_type=webhook integration_name=Up "url=$RECV/ok" method=POST auth_type=none
UP=$(new_id)
post demo "$I" integration_type=webhook integration_name=Down url=http://127.0.0.1:9/x method=POST auth_type=none
DOWN=$(new_id)
post demo "$I" integration_type=pagerduty integration_name=Pager service_id=PQRS123 routing_key=PagerDutyRoutingKey0123456789abc
PD=$(new_id)
n0=$(recv_count)
check "check-health: exit 0" check_health
is "slack: auth.test accepted the token" "$(health "$SL")" "healthy|Slack accepted the bot token (auth.test)."
is "datadog: the API key validated" "$(health "$DD")" "healthy|Datadog accepted the API key."
is "webhook: reachable" "$(health "$UP")" "healthy|Reachable: the name resolves, the connection and TLS succeed."
case "$(health "$DOWN")" in "unhealthy|Not reachable: "*) ok "webhook: a closed port is unhealthy, with the reason" ;; *) notok "webhook: a closed port is unhealthy, with the reason" "$(health "$DOWN")" ;; esac
is "pagerduty: unchanged health, says deliveries check it" "$(health "$PD")" "unknown|Credentials set; pagerduty can only be checked by a delivery (send a test event)."
is "seeded slack still unknown with the reason" "$(health "$SLACK")" "unknown|No bot token set: nothing can be delivered until it is."
is "seeded webhook without its bearer secret: unknown" "$(health 30000000-0000-0000-0000-000000000003)" "unknown|No secret set: nothing can be delivered until it is."
is "every enabled integration checked just now" "$(sql "SELECT count(*) FILTER (WHERE last_health_check_at > now() - interval '1 minute'), count(*) FROM integrations_config WHERE is_enabled AND workspace_id = '$ACME'")" "8|8"
r=$(recv_last /api/auth.test)
is "auth.test: documented request (POST, bearer token)" "$(recv_get "$r" method) $(recv_problems "$r")" "POST "
r=$(recv_last /api/v1/validate)
is "validate: documented request (GET, DD-API-KEY)" "$(recv_get "$r" method) $(recv_problems "$r")" "GET "
is "no alert or event was sent by the checks" "$(python3 -c 'import json, os, sys
d = sys.argv[1]; print(sum(1 for f in os.listdir(d) if f.endswith(".json") and json.load(open(os.path.join(d, f)))["path"] in ("/api/chat.postMessage", "/v2/enqueue", "/api/v1/events")))' "$T/recv")" 0
# The service refuses the credentials.
echo 401 >"$T/recv/service_status"
check_health
case "$(health "$SL")" in "unhealthy|Health check failed: Answered HTTP 401."*) ok "slack: a refused token is unhealthy" ;; *) notok "slack: a refused token is unhealthy" "$(health "$SL")" ;; esac
echo 200 >"$T/recv/service_status"
check_health
case "$(health "$SL")" in "unhealthy|Health check failed: "*) ok "slack: \"ok\": false is unhealthy too" ;; *) notok "slack: \"ok\": false is unhealthy too" "$(health "$SL")" ;; esac
rm -f "$T/recv/service_status"
# A check does not hide what deliveries saw: 3 failures in a row stay unhealthy.
sql "UPDATE integrations_config SET consecutive_failures = 3 WHERE id = '$UP'" >/dev/null
check_health
is "reachable but failing deliveries: still unhealthy" "$(sql "SELECT health_status FROM integrations_config WHERE id = '$UP'")" unhealthy
get demo "$I"
check "list shows the check's message" body_has "Slack accepted the bot token (auth.test)."
# `integrations --check-health` runs the same checks (for cron beside the page executable).
sql "UPDATE integrations_config SET health_status = 'degraded', last_health_check_at = NULL WHERE id = '$DD'" >/dev/null
out=$(env SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE="$RECV" \
	DATABASE_URL="$(APP_URL)" SETTINGS_CREDENTIALS_KEYS="$SETTINGS_CREDENTIALS_KEYS" "$BIN" --check-health 2>&1); rc=$?
is "integrations --check-health: exit 0" "$rc" 0
is "integrations --check-health: checked again" "$(sql "SELECT health_status, last_health_check_at IS NOT NULL FROM integrations_config WHERE id = '$DD'")" "healthy|t"
