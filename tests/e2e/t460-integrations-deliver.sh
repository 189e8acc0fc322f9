#!/bin/sh
# t460-integrations-deliver.sh: "Send test event" for every type goes
# through the delivery worker: the page answers 303 at once to the delivery
# log, which refreshes itself until the result is in; each service gets
# its documented wire format (checked by the receiver: method, path,
# headers, auth, body); a missing credential is a 422 on the form next to
# the field; the log shows the request with secrets masked, and redeliver
# queues a copy.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
delivery_restart
login demo demo@example.com
login viewer viewer@example.com

BOT=xoxb-424242424242-SlackBotPlaintext
ROUTING=PagerDutyRoutingKey0123456789abc
DSNKEY=f00df00df00df00df00df00df00df00d
DSN=https://$DSNKEY@o7.ingest.sentry.io/777
DDAPI=d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0

post demo "$I" integration_type=slack integration_name=Chat channel_id=C0AAAA1111 "bot_token=$BOT"
SL=$(new_id)
post demo "$I" integration_type=pagerduty integration_name=Pager service_id=PQRS123 "routing_key=$ROUTING"
PD=$(new_id)
post demo "$I" integration_type=sentry integration_name=Errors environment=prod sample_rate=1 traces_sample_rate=0.2 "dsn=$DSN"
SE=$(new_id)
post demo "$I" integration_type=datadog integration_name=Metrics site=datadoghq.com service_name=agents "api_key=$DDAPI"
DD=$(new_id)
post demo "$I" integration_type=webhook integration_name=Hook "url=$RECV/ok" method=POST auth_type=hmac secret=0123456789abcdef0123
WH=$(new_id)

post demo "$I" integration_type=slack integration_name=Hooked channel_id=C0AAAA2222 webhook_url=https://hooks.slack.com/services/T0000/B0000/HookSecretXYZ
is "slack with an incoming webhook URL and no bot token: saved" "$STATUS" 303
SW=$(new_id)
post demo "$I" integration_type=slack integration_name=Bad channel_id=C0AAAA3333 webhook_url=https://example.com/services/x
is "slack: a webhook URL not on hooks.slack.com is refused (422)" "$STATUS" 422
check "422: next to the webhook URL field" grep -q 'id="e-webhook_url"' "$T/body"

# The page answers at once: 303 to the delivery log, the test queued.
post demo "$I/$SL/test"
is "slack test: 303 to its delivery log" "$STATUS|$(location)" "303|$I/$SL/deliveries"
is "slack test: queued as a test delivery" "$(sql "SELECT event_type, is_test, max_attempts FROM integration_deliveries WHERE integration_id = '$SL'")" "integration.test|t|1"
is "slack test: audit row" "$(audits integration.test_queued "$SL")" 1
for id in "$PD" "$SE" "$DD" "$WH" "$SW"; do post demo "$I/$id/test"; done
check "every test delivered" settle 30
for id in "$SL" "$PD" "$SE" "$DD" "$WH" "$SW"; do
	is "delivered: $(sql "SELECT integration_type FROM integrations_config WHERE id = '$id'")" "$(delivery_of "$id" | cut -d'|' -f1,2)" "delivered|1"
done

# Slack: chat.postMessage with the bot token and channel.
rq=$(recv_last /api/chat.postMessage)
is "slack: POST /api/chat.postMessage, documented format" "$(recv_get "$rq" method) $(recv_problems "$rq")" "POST "
is "slack: bot token and channel" "$(recv_get "$rq" header:authorization)|$(recv_json "$rq" 'b["channel"]')" "Bearer $BOT|C0AAAA1111"
is "slack: delivery id in the message metadata" "$(recv_json "$rq" 'b["metadata"]["event_payload"]["delivery_id"]')" "$(sql "SELECT id FROM integration_deliveries WHERE integration_id = '$SL'")"

# Slack incoming webhook: the JSON to the webhook's own URL, no token, no channel.
rq=$(recv_last /services/T0000/B0000/HookSecretXYZ)
is "slack webhook: POST to its URL, documented format" "$(recv_get "$rq" method) $(recv_problems "$rq")" "POST "
is "slack webhook: no Authorization header" "$(recv_get "$rq" header:authorization)" ""
get demo "$I/$SW/deliveries"
check "log: the webhook URL's secret part is masked" sh -c "! grep -qF 'HookSecretXYZ' '$T/body'"

# PagerDuty: trigger, then resolve with the same dedup_key.
pt=$(python3 - "$T/recv" <<'PY'
import json, os, sys
rs = sorted((int(f[:-5]), json.load(open(os.path.join(sys.argv[1], f)))) for f in os.listdir(sys.argv[1]) if f.endswith(".json"))
ev = [json.loads(r["body"]) for n, r in rs if r["path"] == "/v2/enqueue"]
print(" ".join(e["event_action"] for e in ev), len({e["dedup_key"] for e in ev}), all(not r["problems"] for n, r in rs if r["path"] == "/v2/enqueue"))
PY
)
is "pagerduty: trigger then resolve, one dedup_key, documented format" "$pt" "trigger resolve 1 True"
rq=$(recv_last /v2/enqueue)
is "pagerduty: routing key and dedup key = delivery id" "$(recv_json "$rq" 'b["routing_key"]')|$(recv_json "$rq" 'b["dedup_key"]')" "$ROUTING|$(sql "SELECT id FROM integration_deliveries WHERE integration_id = '$PD'")"

# Sentry: the store endpoint with X-Sentry-Auth.
rq=$(recv_last /api/777/store/)
is "sentry: POST /api/777/store/, documented format" "$(recv_get "$rq" method) $(recv_problems "$rq")" "POST "
check "sentry: X-Sentry-Auth carries the DSN's key" sh -c "printf '%s' '$(recv_get "$rq" header:x-sentry-auth)' | grep -q 'sentry_key=$DSNKEY'"
is "sentry: event_id is the delivery id" "$(recv_json "$rq" 'b["event_id"]')" "$(sql "SELECT replace(id::text, '-', '') FROM integration_deliveries WHERE integration_id = '$SE'")"

# Datadog: the events API with DD-API-KEY.
rq=$(recv_last /api/v1/events)
is "datadog: POST /api/v1/events, documented format" "$(recv_get "$rq" method) $(recv_problems "$rq")" "POST "
is "datadog: DD-API-KEY" "$(recv_get "$rq" header:dd-api-key)" "$DDAPI"
check "datadog: service tag" sh -c "test '$(recv_json "$rq" '"service:agents" in b["tags"]')' = True"

# Webhook: the signed JSON.
rq=$(recv_last /ok)
signed_text "$rq" "$T/signed"
is "webhook: HMAC signature over timestamp.body" "$(recv_get "$rq" header:x-settings-signature)" "sha256=$(hmac_hex 0123456789abcdef0123 "$T/signed")"
is "webhook: delivery id header is the delivery" "$(recv_get "$rq" header:x-settings-delivery)" "$(sql "SELECT id FROM integration_deliveries WHERE integration_id = '$WH'")"

# Health and counters from the delivery, in the same transaction.
is "slack healthy, 1 sent" "$(sql "SELECT health_status, total_events_sent, last_sync_at IS NOT NULL FROM integrations_config WHERE id = '$SL'")" "healthy|1|t"

# The delivery log.
get demo "$I/$SL/deliveries"
is "log: 200" "$STATUS" 200
check "log: says the latest test was delivered" body_has "The latest test event was delivered: HTTP 200"
check "log: no refresh once the result is in" sh -c "! grep -q 'http-equiv=\"refresh\"' '$T/body'"
check "log: the request is shown" body_has "POST $RECV/api/chat.postMessage"
check "log: the bot token is masked" sh -c "! grep -qF '$BOT' '$T/body' && grep -qF 'Authorization: Bearer ********' '$T/body'"
check "log: the answer is shown" body_has '&quot;ok&quot;:true'
check "log: valid HTML" tidy_ok
get demo "$I/$PD/deliveries"
check "log: the routing key is masked" sh -c "! grep -qF '$ROUTING' '$T/body'"
get demo "$I/$SE/deliveries"
check "log: the DSN key is masked" sh -c "! grep -qF '$DSNKEY' '$T/body'"
get viewer "$I/$SL/deliveries"
is "log: a viewer may read it" "$STATUS" 200
check "log: a viewer has no redeliver button" sh -c "! grep -q 'Redeliver' '$T/body'"

# A queued test makes the log refresh itself.
worker_stop delivery
post demo "$I/$WH/test"
get demo "$I/$WH/deliveries"
check "log: refreshes itself while a delivery is under way" body_has '<meta http-equiv="refresh" content="2">'
check "log: says it is queued" body_has "Queued"
delivery_restart
check "queued test delivered after the worker is back" settle 20

# Redeliver: a copy with a new id.
D=$(sql "SELECT id FROM integration_deliveries WHERE integration_id = '$DD' ORDER BY created_at LIMIT 1")
n0=$(recv_count)
post demo "$I/$DD/deliveries/$D/redeliver"
is "redeliver: 303 to the log" "$STATUS|$(location)" "303|$I/$DD/deliveries"
check "redelivery delivered" settle 20
is "redeliver: a copy, delivered" "$(sql "SELECT count(*), bool_and(status = 'delivered') FROM integration_deliveries WHERE redelivery_of = '$D'")" "1|t"
is "redeliver: one more request at the receiver" "$(recv_count)" "$((n0 + 1))"
is "redeliver: audit row" "$(audits integration.redelivered "$DD")" 1
post viewer "$I/$DD/deliveries/$D/redeliver"
is "redeliver: a viewer gets 403" "$STATUS" 403
post demo "/w/globex/settings/integrations/$DD/deliveries/$D/redeliver"
is "redeliver: another workspace's path is 404" "$STATUS" 404
post demo "$I/$SL/deliveries/$D/redeliver"
is "redeliver: a delivery of another integration is 404" "$STATUS" 404

# A missing credential: 422 on the form, next to the field; nothing queued.
n0=$(sql "SELECT count(*) FROM integration_deliveries")
post demo "$I/30000000-0000-0000-0000-000000000001/test"
is "seeded slack without a bot token: 422" "$STATUS" 422
check "422: the message is next to the bot token field" grep -q 'id="e-bot_token"' "$T/body"
check "422: it names the field" body_has "Enter the bot token"
post demo "$I/30000000-0000-0000-0000-000000000003/test"
is "seeded bearer webhook without a secret: 422" "$STATUS" 422
check "422: names the secret" grep -q 'id="e-secret"' "$T/body"
is "422: nothing queued" "$(sql "SELECT count(*) FROM integration_deliveries")" "$n0"

# A failed test is shown as a failure with its reason.
post demo "$I/$WH" integration_name=Hook "url=$RECV/fail" method=POST auth_type=hmac
post demo "$I/$WH/test"
settle 20
get demo "$I/$WH/deliveries"
check "failed test: error style with the reason" grep -q 'class="error-message delivery-result" role="alert">The latest test event failed (HTTP 500): Answered HTTP 500.' "$T/body"
check "failed test: no success mark" sh -c "! grep -q 'class=\"delivery-result ok\"' '$T/body'"
