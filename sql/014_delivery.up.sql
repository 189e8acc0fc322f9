-- 014_delivery: integrations that deliver.
--
-- alert_events is the outbox the platform writes alerts into, through
-- alert_enqueue(). The delivery worker (cgi/delivery.c) fans each alert out
-- to the workspace's enabled integrations whose filters match, one row per
-- integration in integration_deliveries, and sends them; test events from
-- the integrations page are queued there too. Every attempt is one row of
-- integration_delivery_attempts: the delivery log.
--
-- Several workers on several hosts may run at once: they claim rows with
-- FOR UPDATE SKIP LOCKED and a lease (claim_id, lease_until). A worker that
-- dies leaves its claim to expire, and the row is claimed again: every
-- alert is delivered at least once. A worker whose lease was taken over
-- finds its claim_id gone and records nothing.
--
-- The worker connects as settings_app like the pages; the few steps that
-- cross workspaces are the SECURITY DEFINER functions below.

CREATE TABLE alert_events (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    alert_type VARCHAR(32) NOT NULL,
    severity VARCHAR(16) NOT NULL,
    agent VARCHAR(128),
    title VARCHAR(256) NOT NULL,
    body TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    fanned_out_at TIMESTAMPTZ,
    CONSTRAINT alert_events_type_check
        CHECK (alert_type IN ('error_spike', 'budget_exceeded', 'agent_down', 'latency_high')),
    CONSTRAINT alert_events_severity_check
        CHECK (severity IN ('info', 'warning', 'error', 'critical'))
);
CREATE INDEX idx_alert_events_pending ON alert_events (created_at) WHERE fanned_out_at IS NULL;
CREATE INDEX idx_alert_events_workspace ON alert_events (workspace_id, created_at DESC);
COMMENT ON TABLE alert_events IS 'Outbox of alerts; alert_enqueue() writes, the delivery worker fans out';

CREATE TABLE integration_deliveries (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    integration_id UUID NOT NULL REFERENCES integrations_config(id) ON DELETE CASCADE,
    alert_id UUID REFERENCES alert_events(id) ON DELETE SET NULL,
    redelivery_of UUID REFERENCES integration_deliveries(id) ON DELETE SET NULL,
    event_type VARCHAR(32) NOT NULL,
    is_test BOOLEAN NOT NULL DEFAULT FALSE,
    severity VARCHAR(16) NOT NULL DEFAULT 'info',
    agent VARCHAR(128),
    title VARCHAR(256) NOT NULL,
    body TEXT,
    status VARCHAR(16) NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 1,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    claim_id UUID,
    lease_until TIMESTAMPTZ,
    last_http_status INTEGER,
    last_latency_ms INTEGER,
    last_error TEXT,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ,
    CONSTRAINT integration_deliveries_status_check
        CHECK (status IN ('queued', 'sending', 'delivered', 'failed')),
    CONSTRAINT integration_deliveries_attempts_check
        CHECK (attempts >= 0 AND max_attempts BETWEEN 1 AND 11)
);
CREATE INDEX idx_deliveries_due ON integration_deliveries (next_attempt_at)
    WHERE status IN ('queued', 'sending');
CREATE INDEX idx_deliveries_integration ON integration_deliveries (integration_id, created_at DESC);
CREATE INDEX idx_deliveries_created ON integration_deliveries (created_at);
COMMENT ON TABLE integration_deliveries IS 'Queued, in-flight and finished deliveries (alerts and tests)';

CREATE TABLE integration_delivery_attempts (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    delivery_id UUID NOT NULL REFERENCES integration_deliveries(id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    integration_id UUID NOT NULL REFERENCES integrations_config(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome VARCHAR(16) NOT NULL,
    http_status INTEGER,
    latency_ms INTEGER,
    error TEXT,
    request TEXT,
    response TEXT,
    CONSTRAINT integration_delivery_attempts_outcome_check
        CHECK (outcome IN ('delivered', 'retry', 'failed')),
    CONSTRAINT integration_delivery_attempts_response_check
        CHECK (octet_length(response) <= 4096)
);
CREATE INDEX idx_delivery_attempts_delivery ON integration_delivery_attempts (delivery_id, attempt);
CREATE INDEX idx_delivery_attempts_recent ON integration_delivery_attempts (integration_id, started_at DESC);
COMMENT ON TABLE integration_delivery_attempts IS 'One row per attempt: status, latency, error, request (secrets masked), first 4 KB of the answer';

ALTER TABLE integrations_config
    ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN disabled_reason TEXT;
COMMENT ON COLUMN integrations_config.consecutive_failures IS 'Failed attempts since the last success (health; 20 disables)';
COMMENT ON COLUMN integrations_config.disabled_reason IS 'Why the delivery worker disabled the integration, until it is enabled again';

-- New alerts and deliveries wake the workers at once (LISTEN settings_delivery);
-- without a notification they look every SETTINGS_DELIVERY_POLL_MS.
CREATE FUNCTION delivery_notify() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('settings_delivery', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER alert_events_notify AFTER INSERT ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_notify();
CREATE TRIGGER integration_deliveries_notify AFTER INSERT ON integration_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_notify();

-- Row-level security, as 006_rls.
ALTER TABLE alert_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY alert_events_isolation ON alert_events
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER TABLE integration_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY integration_deliveries_isolation ON integration_deliveries
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER TABLE integration_delivery_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY integration_delivery_attempts_isolation ON integration_delivery_attempts
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

-- The page reads the log and queues tests and redeliveries; the worker's
-- writes go through the functions below.
GRANT SELECT ON alert_events, integration_delivery_attempts TO settings_app;
GRANT SELECT, INSERT ON integration_deliveries TO settings_app;

-- The platform's side: record an alert for delivery. Returns its id.
CREATE FUNCTION alert_enqueue(p_workspace_id uuid, p_alert_type text, p_severity text,
                              p_agent text, p_title text, p_body text)
RETURNS uuid
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    INSERT INTO alert_events (workspace_id, alert_type, severity, agent, title, body)
    VALUES (p_workspace_id, p_alert_type, p_severity, p_agent, p_title, p_body)
    RETURNING id
$$;

-- Fan-out, step 1 (inside the worker's transaction): lock up to p_limit
-- alerts not fanned out yet (skipping those another worker holds) and
-- return each with every enabled integration of its workspace and that
-- integration's filters (one row per pair; integration_id NULL when the
-- workspace has none). Filters: alert types and agents as lines.
CREATE FUNCTION alert_claim(p_limit integer)
RETURNS TABLE(alert_id uuid, alert_type text, severity text, agent text,
              integration_id uuid, filter_types text, filter_severity text, filter_agents text)
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH a AS (
        SELECT e.id, e.workspace_id, e.alert_type, e.severity, e.agent, e.created_at
          FROM alert_events e
         WHERE e.fanned_out_at IS NULL
         ORDER BY e.created_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    )
    SELECT a.id, a.alert_type, a.severity, a.agent, i.id,
           CASE WHEN jsonb_typeof(i.event_filters->'alert_types') = 'array'
                THEN (SELECT string_agg(x, E'\n') FROM jsonb_array_elements_text(i.event_filters->'alert_types') x) END,
           i.event_filters->>'severity_min',
           CASE WHEN jsonb_typeof(i.event_filters->'agents') = 'array'
                THEN (SELECT string_agg(x, E'\n') FROM jsonb_array_elements_text(i.event_filters->'agents') x) END
      FROM a
      LEFT JOIN integrations_config i ON i.workspace_id = a.workspace_id AND i.is_enabled
     ORDER BY a.created_at, a.id, i.id
$$;

-- Fan-out, step 2: queue one delivery of the alert per chosen integration
-- (its retry settings give the attempts) and mark the alert fanned out.
CREATE FUNCTION alert_fanout(p_alert_id uuid, p_integrations uuid[])
RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO integration_deliveries (workspace_id, integration_id, alert_id, event_type,
                                        severity, agent, title, body, max_attempts)
    SELECT e.workspace_id, i.id, e.id, e.alert_type, e.severity, e.agent, e.title, e.body,
           1 + CASE WHEN coalesce(i.retry_config->>'max_retries', '') ~ '^[0-9]{1,2}$'
                    THEN least((i.retry_config->>'max_retries')::int, 10) ELSE 3 END
      FROM alert_events e
      JOIN integrations_config i ON i.workspace_id = e.workspace_id
     WHERE e.id = p_alert_id AND i.id = ANY (p_integrations);
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE alert_events SET fanned_out_at = now() WHERE id = p_alert_id;
    RETURN n;
END
$$;

-- Claim up to p_limit due deliveries for sending. Claims are serialised
-- (an advisory lock for the claim's own transaction) so that the budgets
-- are spent once: an integration's rate_limit_per_minute (attempts in the
-- last minute plus those in flight; the rest waits, never dropped), and at
-- most p_tests_per_workspace test events of one workspace in flight. Rows
-- are locked FOR UPDATE SKIP LOCKED and leased for p_lease_seconds under a
-- new claim id; a lease that ran out (a worker died) is claimed again.
CREATE FUNCTION delivery_claim(p_limit integer, p_lease_seconds integer,
                               p_tests_per_workspace integer)
RETURNS TABLE(delivery_id uuid, claim_id uuid, attempt integer, max_attempts integer,
              workspace_id uuid, workspace_slug text, workspace_name text,
              integration_id uuid, integration_type text, integration_name text,
              config_channel_id text, config_url text, config_method text,
              config_auth_type text, config_timeout_ms text, config_environment text,
              config_site text, config_service_name text,
              credentials_encrypted text, encryption_key_id text, backoff text, event_type text, is_test boolean, severity text, agent text,
              title text, body text, created_at text)
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT pg_advisory_xact_lock(hashtext('delivery_claim'));
    WITH due AS (
        SELECT d.id, d.integration_id, d.workspace_id, d.is_test, d.next_attempt_at,
               d.created_at, i.rate_limit_per_minute AS rl
          FROM integration_deliveries d
          JOIN integrations_config i ON i.id = d.integration_id
         WHERE ((d.status = 'queued' AND d.next_attempt_at <= now())
                OR (d.status = 'sending' AND d.lease_until < now()))
           AND (d.is_test OR i.is_enabled)
         ORDER BY d.next_attempt_at
         LIMIT p_limit * 20
    ), ranked AS (
        SELECT due.*,
               row_number() OVER (PARTITION BY due.integration_id
                                  ORDER BY due.next_attempt_at, due.created_at) AS rn_i,
               row_number() OVER (PARTITION BY due.workspace_id, due.is_test
                                  ORDER BY due.next_attempt_at, due.created_at) AS rn_t
          FROM due
    ), pick AS (
        SELECT r.id
          FROM ranked r
         WHERE (r.rl IS NULL OR r.rn_i <= r.rl
                - (SELECT count(*) FROM integration_delivery_attempts a
                    WHERE a.integration_id = r.integration_id
                      AND a.started_at > now() - interval '1 minute')
                - (SELECT count(*) FROM integration_deliveries s
                    WHERE s.integration_id = r.integration_id AND s.status = 'sending'
                      AND s.lease_until >= now()))
           AND (NOT r.is_test OR r.rn_t <= p_tests_per_workspace
                - (SELECT count(*) FROM integration_deliveries s
                    WHERE s.workspace_id = r.workspace_id AND s.is_test
                      AND s.status = 'sending' AND s.lease_until >= now()))
         ORDER BY r.is_test, r.next_attempt_at
         LIMIT p_limit
    ), locked AS (
        SELECT d.id FROM integration_deliveries d
         WHERE d.id IN (SELECT id FROM pick)
           FOR UPDATE SKIP LOCKED
    ), claim AS (
        SELECT uuid_generate_v4() AS id
    ), upd AS (
        UPDATE integration_deliveries d
           SET status = 'sending', claim_id = claim.id, attempts = d.attempts + 1,
               lease_until = now() + make_interval(secs => p_lease_seconds)
          FROM locked, claim
         WHERE d.id = locked.id
        RETURNING d.*
    )
    SELECT upd.id, upd.claim_id, upd.attempts, upd.max_attempts, upd.workspace_id,
           w.slug::text, w.name::text, i.id, i.integration_type::text, i.integration_name::text,
           i.config_data->>'channel_id', i.config_data->>'url', i.config_data->>'method',
           i.config_data->>'auth_type', i.config_data->>'timeout_ms', i.config_data->>'environment',
           i.config_data->>'site', i.config_data->>'service_name',
           i.credentials_encrypted, i.encryption_key_id::text,
           coalesce(i.retry_config->>'backoff', 'exponential'), upd.event_type::text,
           upd.is_test, upd.severity::text, upd.agent::text, upd.title::text, upd.body,
           to_char(upd.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      FROM upd
      JOIN integrations_config i ON i.id = upd.integration_id
      JOIN workspaces w ON w.id = upd.workspace_id
     ORDER BY upd.is_test, upd.next_attempt_at
$$;

-- Before a send that may outlast the claim's lease: extend it. False when
-- the claim is no longer this worker's (it expired and was taken over).
CREATE FUNCTION delivery_lease(p_delivery_id uuid, p_claim_id uuid, p_seconds integer)
RETURNS boolean
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH u AS (
        UPDATE integration_deliveries
           SET lease_until = now() + make_interval(secs => p_seconds)
         WHERE id = p_delivery_id AND claim_id = p_claim_id AND status = 'sending'
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM u)
$$;

-- A worker that stops gives back what it claimed and did not send.
CREATE FUNCTION delivery_release(p_claim_id uuid)
RETURNS integer
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH u AS (
        UPDATE integration_deliveries
           SET status = 'queued', claim_id = NULL, lease_until = NULL,
               attempts = greatest(attempts - 1, 0)
         WHERE claim_id = p_claim_id AND status = 'sending'
        RETURNING 1
    )
    SELECT count(*)::int FROM u
$$;

-- Record one attempt, in one transaction: the attempt row, the delivery
-- (delivered; queued again at p_retry_at; or failed), and the
-- integration's counters, last sync or last error, and health (healthy
-- after a success, degraded after 1-2 consecutive failures, unhealthy after
-- 3 or more). After p_disable_after consecutive failures of alerts the
-- integration is disabled, with the reason and an audit row. Returns the
-- health, or NULL when the claim is no longer this worker's.
CREATE FUNCTION delivery_record(p_delivery_id uuid, p_claim_id uuid, p_ok boolean,
                                p_retry_at timestamptz, p_http_status integer,
                                p_latency_ms integer, p_error text, p_request text,
                                p_response text, p_disable_after integer)
RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    d integration_deliveries%ROWTYPE;
    v_outcome text;
    v_fails integer;
    v_health text;
    v_enabled boolean;
BEGIN
    SELECT * INTO d FROM integration_deliveries
     WHERE id = p_delivery_id AND claim_id = p_claim_id AND status = 'sending'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_outcome := CASE WHEN p_ok THEN 'delivered'
                      WHEN p_retry_at IS NOT NULL AND d.attempts < d.max_attempts THEN 'retry'
                      ELSE 'failed' END;
    INSERT INTO integration_delivery_attempts (delivery_id, workspace_id, integration_id,
        attempt, outcome, http_status, latency_ms, error, request, response)
    VALUES (d.id, d.workspace_id, d.integration_id, d.attempts, v_outcome,
            nullif(p_http_status, 0), p_latency_ms, p_error, p_request,
            substring(p_response FOR 4096));
    -- substring counts characters; the check is in bytes: trim further if needed.
    UPDATE integration_deliveries
       SET status = CASE v_outcome WHEN 'retry' THEN 'queued' ELSE v_outcome END,
           next_attempt_at = CASE v_outcome WHEN 'retry' THEN p_retry_at ELSE next_attempt_at END,
           claim_id = NULL, lease_until = NULL,
           last_http_status = nullif(p_http_status, 0), last_latency_ms = p_latency_ms,
           last_error = CASE WHEN p_ok THEN NULL ELSE p_error END,
           completed_at = CASE v_outcome WHEN 'retry' THEN NULL ELSE now() END
     WHERE id = d.id;

    UPDATE integrations_config i
       SET consecutive_failures = CASE WHEN p_ok THEN 0 ELSE i.consecutive_failures + 1 END,
           total_events_sent = coalesce(i.total_events_sent, 0) + CASE WHEN p_ok THEN 1 ELSE 0 END,
           total_errors = coalesce(i.total_errors, 0) + CASE WHEN p_ok THEN 0 ELSE 1 END,
           last_sync_at = CASE WHEN p_ok THEN now() ELSE i.last_sync_at END,
           last_error_at = CASE WHEN p_ok THEN i.last_error_at ELSE now() END,
           last_error_message = CASE WHEN p_ok THEN i.last_error_message ELSE p_error END,
           health_status = CASE WHEN p_ok THEN 'healthy'
                                WHEN i.consecutive_failures + 1 >= 3 THEN 'unhealthy'
                                ELSE 'degraded' END,
           health_check_message = CASE
               WHEN p_ok THEN format('%s delivered: HTTP %s in %s ms.',
                                     CASE WHEN d.is_test THEN 'Test event' ELSE 'Alert' END,
                                     p_http_status, p_latency_ms)
               ELSE format('%s consecutive failure%s; last: %s', i.consecutive_failures + 1,
                           CASE WHEN i.consecutive_failures = 0 THEN '' ELSE 's' END, p_error) END,
           last_health_check_at = now()
     WHERE i.id = d.integration_id
    RETURNING i.consecutive_failures, i.health_status, i.is_enabled
      INTO v_fails, v_health, v_enabled;

    IF NOT p_ok AND NOT d.is_test AND v_enabled AND p_disable_after > 0
       AND v_fails >= p_disable_after THEN
        UPDATE integrations_config
           SET is_enabled = FALSE,
               disabled_reason = format('Disabled after %s consecutive failed deliveries; the last: %s',
                                        v_fails, p_error)
         WHERE id = d.integration_id;
        INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, resource_id, changes)
        VALUES (d.workspace_id, NULL, 'integration.auto_disabled', 'integration', d.integration_id,
                jsonb_build_object('old', jsonb_build_object('is_enabled', true),
                                   'new', jsonb_build_object('is_enabled', false),
                                   'reason', format('%s consecutive failed deliveries', v_fails),
                                   'last_error', p_error, 'delivery_id', d.id));
    END IF;
    RETURN v_health;
END
$$;

-- Housekeeping: deliveries (and their attempts) older than p_days days,
-- and alerts fanned out that long ago. Returns the deliveries removed.
CREATE FUNCTION delivery_purge(p_days integer)
RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM integration_deliveries
     WHERE created_at < now() - make_interval(days => p_days)
       AND status IN ('delivered', 'failed');
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM alert_events
     WHERE fanned_out_at < now() - make_interval(days => p_days);
    RETURN n;
END
$$;

-- Health checks (delivery --check-health): every enabled integration with
-- what a check needs, and the check's result.
CREATE FUNCTION integration_health_targets()
RETURNS TABLE(integration_id uuid, workspace_id uuid, integration_type text,
              config_channel_id text, config_url text, config_method text,
              config_auth_type text, config_timeout_ms text, config_environment text,
              config_site text, config_service_name text,
              credentials_encrypted text, encryption_key_id text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT i.id, i.workspace_id, i.integration_type::text,
           i.config_data->>'channel_id', i.config_data->>'url', i.config_data->>'method',
           i.config_data->>'auth_type', i.config_data->>'timeout_ms', i.config_data->>'environment',
           i.config_data->>'site', i.config_data->>'service_name',
           i.credentials_encrypted, i.encryption_key_id::text
      FROM integrations_config i
     WHERE i.is_enabled
     ORDER BY i.workspace_id, i.id
$$;

CREATE FUNCTION integration_health_record(p_integration_id uuid, p_health text, p_message text)
RETURNS void
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    UPDATE integrations_config
       SET health_status = CASE
               WHEN p_health IS NULL THEN health_status
               -- A reachable endpoint does not undo failures the deliveries saw.
               WHEN p_health = 'healthy' AND consecutive_failures >= 3 THEN 'unhealthy'
               WHEN p_health = 'healthy' AND consecutive_failures > 0 THEN 'degraded'
               ELSE p_health END,
           health_check_message = p_message,
           last_health_check_at = now()
     WHERE id = p_integration_id
$$;

REVOKE ALL ON FUNCTION alert_enqueue(uuid, text, text, text, text, text),
    alert_claim(integer), alert_fanout(uuid, uuid[]),
    delivery_claim(integer, integer, integer), delivery_lease(uuid, uuid, integer),
    delivery_release(uuid), delivery_record(uuid, uuid, boolean, timestamptz, integer, integer, text, text, text, integer),
    delivery_purge(integer), integration_health_targets(),
    integration_health_record(uuid, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alert_enqueue(uuid, text, text, text, text, text),
    alert_claim(integer), alert_fanout(uuid, uuid[]),
    delivery_claim(integer, integer, integer), delivery_lease(uuid, uuid, integer),
    delivery_release(uuid), delivery_record(uuid, uuid, boolean, timestamptz, integer, integer, text, text, text, integer),
    delivery_purge(integer), integration_health_targets(),
    integration_health_record(uuid, text, text)
    TO settings_app;
