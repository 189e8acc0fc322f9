#!/bin/sh
# t430-integrations-secrets.sh: secrets at rest: encrypted (never in a dump,
# a page or a log), bound to their row, kept when a form leaves them blank,
# and re-encrypted by the key rotation command with the old key then dropped.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
delivery_restart
login demo demo@example.com

S1=hmac-secret-Alpha-7f3a9c2e51d8
S2=hmac-secret-Bravo-0c8e2b4d6f1a
BOT=xoxb-424242424242-SlackBotPlaintext
ROUTING=PagerDutyRoutingKey0123456789abc
DSN=https://f00df00df00df00df00df00df00df00d@o7.ingest.sentry.io/777
DDAPI=d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0
DDAPP=a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1

post demo "$I" integration_type=webhook integration_name=Signed "url=$RECV/ok" method=POST auth_type=hmac "secret=$S1"
is "hmac webhook created" "$STATUS" 303
HID=$(new_id)
post demo "$I" integration_type=slack integration_name=Chat channel_id=C0AAAA1111 "bot_token=$BOT"
SID=$(new_id)
post demo "$I" integration_type=pagerduty integration_name=Pager service_id=PQRS123 "routing_key=$ROUTING"
post demo "$I" integration_type=sentry integration_name=Errors environment=prod sample_rate=1 traces_sample_rate=0.2 "dsn=$DSN"
post demo "$I" integration_type=datadog integration_name=Metrics site=datadoghq.com service_name=agents "api_key=$DDAPI" "app_key=$DDAPP"
is "one integration of each type with secrets" "$(sql "SELECT count(*) FROM integrations_config WHERE credentials_encrypted IS NOT NULL")" 5
is "every ciphertext names its key" "$(sql "SELECT count(*) FROM integrations_config WHERE credentials_encrypted IS NOT NULL AND encryption_key_id = split_part('$SETTINGS_CREDENTIALS_KEYS', ':', 1)")" 5
is "ciphertexts are base64 of nonce, ciphertext and tag" "$(sql "SELECT count(*) FROM integrations_config WHERE credentials_encrypted ~ '^[A-Za-z0-9+/]+=*$' AND length(decode(credentials_encrypted, 'base64')) > 28")" 5

# Encryption at rest: a superuser's dump of the whole database holds no plaintext.
as_user pg_dump "$(SUPER_URL)" >"$T/dump.sql" 2>/dev/null
check "the dump has the integrations" grep -qF "$HID" "$T/dump.sql"
check "the dump has the ciphertext" grep -qF "$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$HID'")" "$T/dump.sql"
for s in "$S1" "$BOT" "$ROUTING" "$DSN" "$DDAPI" "$DDAPP" f00df00df00df00d SlackBotPlaintext; do
	check "no plaintext in the dump: $s" sh -c "! grep -qF '$s' '$T/dump.sql'"
done
for p in "$I" "$I/$HID" "$I/$SID"; do
	get demo "$p"
	check "no secret on $p" sh -c "! grep -qE '$S1|$BOT|$DDAPI' '$T/body'"
done

# The test event signs with the stored secret: the receiver can check it.
post demo "$I/$HID/test"
is "test event: 303" "$STATUS" 303
settle
is "receiver got one request" "$(recv_count)" 1
signed_text 1 "$T/signed1"
is "signature is HMAC-SHA256(secret, timestamp.body)" "$(recv_get 1 header:x-settings-signature)" "sha256=$(hmac_hex "$S1" "$T/signed1")"
check "signature differs for another secret" test "$(recv_get 1 header:x-settings-signature)" != "sha256=$(hmac_hex "$S2" "$T/signed1")"

# A blank secret field on update keeps the stored secret.
ct0=$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$HID'")
post demo "$I/$HID" integration_name="Signed renamed" "url=$RECV/ok" method=POST auth_type=hmac secret= timeout_ms=4000
is "update with a blank secret: 303" "$STATUS" 303
is "blank secret: ciphertext unchanged" "$(sql "SELECT credentials_encrypted FROM integrations_config WHERE id = '$HID'")" "$ct0"
post demo "$I/$HID/test"
settle
signed_text 2 "$T/signed2"
is "blank secret: still signs with the first secret" "$(recv_get 2 header:x-settings-signature)" "sha256=$(hmac_hex "$S1" "$T/signed2")"
post demo "$I/$HID" integration_name="Signed renamed" "url=$RECV/ok" method=POST auth_type=hmac "secret=$S2"
post demo "$I/$HID/test"
settle
signed_text 3 "$T/signed3"
is "new secret: signs with it" "$(recv_get 3 header:x-settings-signature)" "sha256=$(hmac_hex "$S2" "$T/signed3")"
post demo "$I/$HID" integration_name="Signed renamed" "url=$RECV/ok" method=POST auth_type=bearer secret=
post demo "$I/$HID/test"
settle
is "bearer: the stored secret as the token" "$(recv_get 4 header:authorization)" "Bearer $S2"
is "bearer: no signature header" "$(recv_get 4 header:x-settings-signature)" ""

# A ciphertext only opens on its own row (associated data = workspace:integration).
sql "UPDATE integrations_config SET credentials_encrypted = (SELECT credentials_encrypted FROM integrations_config WHERE id = '$SID') WHERE id = '$HID'" >/dev/null
n0=$(recv_count)
post demo "$I/$HID/test"
is "another row's ciphertext does not decrypt: 503" "$STATUS" 503
check "503 page explains, without detail" body_has "cannot be read with the configured encryption keys"
is "nothing sent with unreadable secrets" "$(recv_count)" "$n0"
sql "UPDATE integrations_config SET credentials_encrypted = '$ct0' WHERE id = '$HID'" >/dev/null

# Put S2 back through the form (the row was restored to the S1 ciphertext).
post demo "$I/$HID" integration_name="Signed renamed" "url=$RECV/ok" method=POST auth_type=hmac "secret=$S2"

# --- Key rotation: a new key in front of the ring, the command, then the old key removed.
OLD_ID=$(printf '%s' "$SETTINGS_CREDENTIALS_KEYS" | cut -d: -f1)
NEW_KEY="rot2:$(head -c 32 /dev/urandom | base64)"
RING2="$NEW_KEY,$SETTINGS_CREDENTIALS_KEYS"
before=$(sql "SELECT string_agg(credentials_encrypted, ',' ORDER BY id) FROM integrations_config")
out=$(MIGRATE_URL="$(APP_URL)" SETTINGS_CREDENTIALS_KEYS="$RING2" "$BIN" --rotate-keys 2>&1); rc=$?
check "rotation as the application role: refused" test "$rc" -ne 0
case "$out" in *"row-level security"*) ok "rotation as the application role: says why" ;; *) notok "rotation as the application role: says why" "$out" ;; esac
out=$(MIGRATE_URL="$(OWNER_URL)" SETTINGS_CREDENTIALS_KEYS="bad" "$BIN" --rotate-keys 2>&1); rc=$?
is "rotation with a malformed ring: exit 2" "$rc" 2
out=$(MIGRATE_URL="$(OWNER_URL)" SETTINGS_CREDENTIALS_KEYS="rot3:$(head -c 32 /dev/urandom | base64)" "$BIN" --rotate-keys 2>&1); rc=$?
check "rotation without the old key: fails" test "$rc" -ne 0
case "$out" in *"cannot be decrypted with key \"$OLD_ID\""*) ok "rotation without the old key: names the missing key" ;; *) notok "rotation without the old key: names the missing key" "$out" ;; esac
is "failed rotation changed nothing" "$(sql "SELECT string_agg(credentials_encrypted, ',' ORDER BY id) FROM integrations_config")" "$before"
is "failed rotation audited nothing" "$(audits integration.credentials_rotated)" 0

out=$(MIGRATE_URL="$(OWNER_URL)" SETTINGS_CREDENTIALS_KEYS="$RING2" "$BIN" --rotate-keys 2>&1); rc=$?
is "rotation: exit 0" "$rc" 0
is "rotation: reports what it did" "$out" 're-encrypted the secrets of 5 integration(s) under key "rot2"'
is "rotation: every secret under the new key" "$(sql "SELECT count(*) FILTER (WHERE encryption_key_id = 'rot2'), count(*) FILTER (WHERE encryption_key_id = '$OLD_ID') FROM integrations_config WHERE credentials_encrypted IS NOT NULL")" "5|0"
check "rotation: every ciphertext changed" test "$(sql "SELECT count(*) FROM integrations_config i WHERE credentials_encrypted IS NOT NULL AND position(credentials_encrypted IN '$before') > 0")" = 0
is "rotation: one audit row per integration, keys named, secrets redacted" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'integration.credentials_rotated' AND changes->>'old_key_id' = '$OLD_ID' AND changes->>'new_key_id' = 'rot2' AND changes->>'credentials' = '[redacted]'")" 5
out=$(MIGRATE_URL="$(OWNER_URL)" SETTINGS_CREDENTIALS_KEYS="$RING2" "$BIN" --rotate-keys 2>&1)
is "rotation again: nothing left to do" "$out" 're-encrypted the secrets of 0 integration(s) under key "rot2"'

# The old key leaves the ring: the new key alone still decrypts (the executable
# run as CGI with the new ring), and the stack still holding only the old key cannot.
worker_stop delivery
n0=$(recv_count)
CGI_ALLOW=1 CGI_KEYS="$NEW_KEY" cgi demo POST "$I/$HID/test"
is "new ring only: test event 303" "$CGI_STATUS" 303
SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 DATABASE_URL="$(APP_URL)" SETTINGS_CREDENTIALS_KEYS="$NEW_KEY" \
	"${BUILD:-$ROOT/build}/bin/delivery" --once >"$T/once.out" 2>&1
is "new ring only: sent" "$(recv_count)" $((n0 + 1))
signed_text $((n0 + 1)) "$T/signed5"
is "new ring only: signed with the same secret" "$(recv_get $((n0 + 1)) header:x-settings-signature)" "sha256=$(hmac_hex "$S2" "$T/signed5")"
CGI_ALLOW=1 CGI_KEYS="$NEW_KEY" cgi demo POST "$I/$SID" integration_name=Chat channel_id=C0AAAA1111 bot_token=
is "new ring only: blank-secret update works" "$CGI_STATUS" 303
post demo "$I/$HID/test"
is "old key only: cannot decrypt after rotation (503)" "$STATUS" 503
is "old key only: nothing sent" "$(recv_count)" $((n0 + 1))

# Secrets never reach a log either.
for s in "$S1" "$S2" "$BOT" "$ROUTING" "$DSN" "$DDAPI" "$DDAPP"; do
	check "no plaintext in the logs: $s" sh -c "! grep -rqF '$s' '$VAR/log' '$T/cgi_err'"
done

# A short bearer token kept while switching to hmac would sign with too weak a key.
post demo "$I" integration_type=webhook integration_name=ShortBearer "url=$RECV/ok" method=POST auth_type=bearer secret=tok
is "a webhook with a short bearer token is created" "$STATUS" 303
BID=$(new_id)
before=$(sql "SELECT config_data->>'auth_type' FROM integrations_config WHERE id = '$BID'")
post demo "$I/$BID" integration_name=ShortBearer "url=$RECV/ok" method=POST auth_type=hmac secret=
is "switching to hmac with the short secret kept is refused (422)" "$STATUS" 422
check "... with the reason by the secret field" body_has 'too short to sign with'
is "... and nothing changed" "$(sql "SELECT config_data->>'auth_type' FROM integrations_config WHERE id = '$BID'")" "$before"
post demo "$I/$BID" integration_name=ShortBearer "url=$RECV/ok" method=POST auth_type=hmac secret=a-long-enough-hmac-secret
is "with a new hmac secret the switch works" "$STATUS" 303
