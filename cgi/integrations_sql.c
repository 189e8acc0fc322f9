/* integrations_sql.c: the integrations page's statements, each written whole */
#include "integrations.h"

/* SQL helpers: a time as ISO 8601 UTC plus its age in seconds; a row snapshot for audit. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	"floor(extract(epoch FROM now() - " col "))::bigint"
#define SNAPSHOT "jsonb_build_object('integration_type', integration_type, " \
	"'integration_name', integration_name, 'is_enabled', is_enabled, " \
	"'config_data', config_data, 'event_filters', event_filters, " \
	"'rate_limit_per_minute', rate_limit_per_minute, 'retry_config', retry_config, " \
	"'credentials', CASE WHEN credentials_encrypted IS NULL THEN NULL ELSE '[redacted]' END, " \
	"'encryption_key_id', encryption_key_id, 'credentials_meta', credentials_meta)::text"
#define META(p) "(SELECT coalesce(jsonb_object_agg(m.key, m.value || " \
	"jsonb_build_object('set_at', now())), '{}'::jsonb) FROM jsonb_each(" p "::jsonb) m)"
#define ARRAY_OF(e) "CASE WHEN jsonb_typeof(" e ") = 'array' THEN " e " ELSE '[]'::jsonb END"
#define ONE_ROW "SELECT id, integration_type, integration_name, is_enabled, " \
	"rate_limit_per_minute, event_filters->>'severity_min', retry_config->>'max_retries', " \
	"retry_config->>'backoff', credentials_encrypted, encryption_key_id, " \
	"config_data->>'url', config_data->>'method', config_data->>'auth_type', " \
	"config_data->>'timeout_ms', " SNAPSHOT ", config_data->>'channel_id' " \
	"FROM integrations_config " \
	"WHERE id = $1::uuid AND workspace_id = $2::uuid"

const struct stmt integ_stmts[] = {
	/* A test event for the delivery worker: one attempt, no retries. */
	{ "integ_test_enqueue",
	  "INSERT INTO integration_deliveries (workspace_id, integration_id, event_type, is_test, "
	  "    severity, title, body, max_attempts, created_by) "
	  "SELECT i.workspace_id, i.id, 'integration.test', true, 'info', "
	  "    'Test event from the integration settings', "
	  "    'This is a test event sent from the integration settings page.', 1, $3::uuid "
	  "  FROM integrations_config i "
	  " WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid "
	  "RETURNING id" },
	/* A copy of a delivery, attempts as the integration's retry settings say (tests: one). */
	{ "integ_redeliver",
	  "INSERT INTO integration_deliveries (workspace_id, integration_id, alert_id, redelivery_of, "
	  "    event_type, is_test, severity, agent, title, body, max_attempts, created_by) "
	  "SELECT d.workspace_id, d.integration_id, d.alert_id, d.id, d.event_type, d.is_test, "
	  "    d.severity, d.agent, d.title, d.body, "
	  "    CASE WHEN d.is_test THEN 1 "
	  "         WHEN coalesce(i.retry_config->>'max_retries', '') ~ '^[0-9]{1,2}$' "
	  "         THEN 1 + least((i.retry_config->>'max_retries')::int, 10) ELSE 4 END, $4::uuid "
	  "  FROM integration_deliveries d "
	  "  JOIN integrations_config i ON i.id = d.integration_id "
	  " WHERE d.id = $1::uuid AND d.integration_id = $2::uuid AND d.workspace_id = $3::uuid "
	  "RETURNING id" },
	{ "integ_deliveries",
	  "SELECT d.id, d.event_type, d.is_test, d.status, d.attempts, d.max_attempts, "
	  "       to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       floor(extract(epoch FROM now() - d.created_at))::bigint, "
	  "       d.last_http_status, d.last_latency_ms, d.last_error, d.severity, d.agent, d.title, "
	  "       to_char(d.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       floor(extract(epoch FROM now() - d.next_attempt_at))::bigint, "
	  "       d.redelivery_of, "
	  "       d.status IN ('queued', 'sending') AND d.created_at > now() - interval '10 minutes' "
	  "  FROM integration_deliveries d "
	  " WHERE d.integration_id = $1::uuid AND d.workspace_id = $2::uuid "
	  " ORDER BY d.created_at DESC, d.id "
	  " LIMIT 100" },
	{ "integ_attempts",
	  "SELECT a.delivery_id, a.attempt, "
	  "       to_char(a.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       floor(extract(epoch FROM now() - a.started_at))::bigint, "
	  "       a.outcome, a.http_status, a.latency_ms, a.error, a.request, a.response "
	  "  FROM integration_delivery_attempts a "
	  " WHERE a.integration_id = $1::uuid AND a.workspace_id = $2::uuid "
	  "   AND a.delivery_id IN (SELECT d.id FROM integration_deliveries d "
	  "                          WHERE d.integration_id = $1::uuid AND d.workspace_id = $2::uuid "
	  "                          ORDER BY d.created_at DESC, d.id LIMIT 100) "
	  " ORDER BY a.delivery_id, a.attempt" },
	{ "integ_list",
	  "SELECT id, integration_type, integration_name, is_enabled, "
	  "coalesce(health_status, 'unknown'), health_check_message, "
	  TS("last_health_check_at") ", " TS("last_sync_at") ", " TS("last_error_at") ", "
	  "last_error_message, coalesce(total_events_sent, 0), coalesce(total_errors, 0), "
	  "config_data->>'channel_name', config_data->>'channel_id', "
	  "config_data->>'service_name', config_data->>'service_id', config_data->>'url', "
	  "config_data->>'method', config_data->>'environment', config_data->>'site', "
	  "config_data->>'auth_type', "
	  "(SELECT string_agg(x, E'\\n') FROM jsonb_array_elements_text("
	  ARRAY_OF("event_filters->'alert_types'") ") x), "
	  "event_filters->>'severity_min', "
	  "(SELECT string_agg(x, ', ') FROM jsonb_array_elements_text("
	  ARRAY_OF("event_filters->'agents'") ") x), "
	  "rate_limit_per_minute, retry_config->>'max_retries', retry_config->>'backoff', "
	  "disabled_reason, count(*) OVER () "
	  "FROM integrations_config WHERE workspace_id = $1::uuid "
	  "ORDER BY lower(integration_name), integration_type, id "
	  "LIMIT $2::int OFFSET $3::int" },
	{ "integ_secret_meta",
	  "SELECT i.id, e.key, " TS("(e.value->>'set_at')::timestamptz") ", "
	  "coalesce(nullif(u.full_name, ''), u.email) "
	  "FROM integrations_config i CROSS JOIN LATERAL jsonb_each(i.credentials_meta) e "
	  "LEFT JOIN users u ON u.id = CASE WHEN e.value->>'set_by' ~ "
	  "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "
	  "THEN (e.value->>'set_by')::uuid END "
	  "WHERE i.workspace_id = $1::uuid AND ($2::uuid IS NULL OR i.id = $2::uuid)" },
	{ "integ_get", ONE_ROW },
	{ "integ_get_locked", ONE_ROW " FOR UPDATE" },
	{ "integ_items",
	  "SELECT 'config', e.key, e.value FROM integrations_config i, "
	  "jsonb_each_text(i.config_data) e WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid "
	  "UNION ALL SELECT 'alert_types', NULL, x FROM integrations_config i, "
	  "jsonb_array_elements_text(" ARRAY_OF("i.event_filters->'alert_types'") ") x "
	  "WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid "
	  "UNION ALL SELECT 'agents', NULL, x FROM integrations_config i, "
	  "jsonb_array_elements_text(" ARRAY_OF("i.event_filters->'agents'") ") x "
	  "WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid" },
	{ "integ_agents", "SELECT name FROM agents WHERE workspace_id = $1::uuid ORDER BY name" },
	{ "integ_limit",
	  "SELECT EXISTS (SELECT 1 FROM billing_config WHERE workspace_id = $1::uuid), "
	  "(SELECT custom_integrations_limit FROM billing_config WHERE workspace_id = $1::uuid), "
	  "(SELECT custom_integrations_limit FROM plan_catalog WHERE plan_type = 'free'), "
	  "(SELECT count(*) FROM integrations_config WHERE workspace_id = $1::uuid "
	  "   AND integration_type IN ('webhook', 'custom')), "
	  "(SELECT count(*) FROM integrations_config WHERE workspace_id = $1::uuid)" },
	/* Serialise creations (and plan changes) per workspace before counting. */
	{ "integ_limit_lock_billing",
	  "SELECT 1 FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE" },
	{ "integ_limit_lock_workspace",
	  "SELECT 1 FROM workspaces WHERE id = $1::uuid FOR NO KEY UPDATE" },
	{ "integ_insert",
	  "INSERT INTO integrations_config (id, workspace_id, integration_type, integration_name, "
	  "config_data, credentials_encrypted, encryption_key_id, credentials_meta, event_filters, "
	  "rate_limit_per_minute, retry_config, created_by, updated_by) "
	  "VALUES ($1::uuid, $2::uuid, $3, $4, jsonb_strip_nulls($5::jsonb), $6, $7, " META("$8") ", "
	  "jsonb_strip_nulls($9::jsonb), $10::int, $11::jsonb, $12::uuid, $12::uuid) "
	  "RETURNING " SNAPSHOT },
	{ "integ_update",
	  "UPDATE integrations_config SET integration_name = $3, "
	  "config_data = jsonb_strip_nulls(config_data || $4::jsonb), "
	  "credentials_encrypted = coalesce($5::text, credentials_encrypted), "
	  "encryption_key_id = CASE WHEN $5::text IS NULL THEN encryption_key_id ELSE $6 END, "
	  "credentials_meta = credentials_meta || " META("$7") ", "
	  "event_filters = jsonb_strip_nulls(coalesce(event_filters, '{}'::jsonb) || $8::jsonb), "
	  "rate_limit_per_minute = $9::int, "
	  "retry_config = coalesce(retry_config, '{}'::jsonb) || $10::jsonb, "
	  "updated_by = $11::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING " SNAPSHOT },
	/* Enabling again starts afresh: the reason it was disabled and its failure streak go. */
	{ "integ_set_enabled",
	  "UPDATE integrations_config SET is_enabled = $3::boolean, updated_by = $4::uuid, "
	  "disabled_reason = CASE WHEN $3::boolean THEN NULL ELSE disabled_reason END, "
	  "consecutive_failures = CASE WHEN $3::boolean THEN 0 ELSE consecutive_failures END "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING " SNAPSHOT },
	{ "integ_delete",
	  "DELETE FROM integrations_config WHERE id = $1::uuid AND workspace_id = $2::uuid "
	  "RETURNING " SNAPSHOT },
	{ "integ_record",
	  "UPDATE integrations_config SET last_health_check_at = now(), health_status = $3, "
	  "health_check_message = $4, "
	  "last_sync_at = CASE WHEN $5::boolean THEN now() ELSE last_sync_at END, "
	  "total_events_sent = coalesce(total_events_sent, 0) + CASE WHEN $5::boolean THEN 1 ELSE 0 END, "
	  "last_error_at = CASE WHEN $5::boolean THEN last_error_at ELSE now() END, "
	  "last_error_message = CASE WHEN $5::boolean THEN last_error_message ELSE $6 END, "
	  "total_errors = coalesce(total_errors, 0) + CASE WHEN $5::boolean THEN 0 ELSE 1 END "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING integration_name" },
};

const size_t integ_nstmts = sizeof(integ_stmts) / sizeof(integ_stmts[0]);
