-- 016_delivery_batch: the delivery worker claims, fans out and records in
-- batches: one statement per batch instead of one per alert or delivery.
-- Same rules as 014's one-at-a-time functions (which stay, for older
-- workers).
--
-- Each function first takes its lock on workspaces (an empty read), before
-- the delivery tables: the order in which a TRUNCATE ... CASCADE or other
-- whole-table lock from workspaces down takes them, so the two wait for
-- each other instead of deadlocking.

-- Fan-out of many alerts at once: one delivery per (alert, integration)
-- pair (the pairs the worker's filters chose; an integration of another
-- workspace than its alert's is ignored), and every alert of p_alerts marked
-- fanned out. Returns the deliveries queued.
CREATE FUNCTION alert_fanout_batch(p_alerts uuid[], p_pair_alerts uuid[],
                                   p_pair_integrations uuid[])
RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    PERFORM 1 FROM workspaces LIMIT 0;
    INSERT INTO integration_deliveries (workspace_id, integration_id, alert_id, event_type,
                                        severity, agent, title, body, max_attempts)
    SELECT e.workspace_id, i.id, e.id, e.alert_type, e.severity, e.agent, e.title, e.body,
           1 + CASE WHEN coalesce(i.retry_config->>'max_retries', '') ~ '^[0-9]{1,2}$'
                    THEN least((i.retry_config->>'max_retries')::int, 10) ELSE 3 END
      FROM unnest(p_pair_alerts, p_pair_integrations) WITH ORDINALITY AS p(alert_id, integration_id, ord)
      JOIN alert_events e ON e.id = p.alert_id AND e.fanned_out_at IS NULL
      JOIN integrations_config i ON i.id = p.integration_id AND i.workspace_id = e.workspace_id
     ORDER BY p.ord;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE alert_events SET fanned_out_at = now()
     WHERE id = ANY (p_alerts) AND fanned_out_at IS NULL;
    RETURN n;
END
$$;

-- Claim up to p_limit due deliveries, as delivery_claim (014) does, looking
-- at the p_window oldest due deliveries instead of always 20 times p_limit:
-- the claim is serialised, so its cost bounds every worker's throughput; the
-- worker asks for a window of a few times its batch (SETTINGS_DELIVERY_WINDOW).
CREATE FUNCTION delivery_claim_batch(p_limit integer, p_lease_seconds integer,
                                     p_tests_per_workspace integer, p_window integer)
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
    SELECT count(*) FROM (SELECT 1 FROM workspaces LIMIT 0) w;
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
         LIMIT greatest(p_window, p_limit)
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

-- Extend the lease of every delivery still held under a claim (before a
-- batch whose sends may outlast it). Returns the deliveries still held: a
-- lost one (its lease ran out and another worker took it) is not sent.
CREATE FUNCTION delivery_lease_claim(p_claim_id uuid, p_seconds integer)
RETURNS SETOF uuid
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    UPDATE integration_deliveries
       SET lease_until = now() + make_interval(secs => p_seconds)
     WHERE claim_id = p_claim_id AND status = 'sending'
    RETURNING id
$$;

-- Record the attempts of many deliveries of one claim, in one transaction,
-- as delivery_record (014) does for one: the attempt rows; each delivery
-- delivered, queued again at its retry time, or failed; each integration's
-- counters, last sync or last error, and health from its consecutive
-- failures, taken in the order of the arrays (the order the answers came
-- in); after p_disable_after consecutive failures ending in an alert's, the
-- integration disabled with the reason and an audit row. The integrations
-- are locked in id order first, so that batches recorded at once never
-- deadlock. A delivery no longer held under p_claim_id is left alone.
-- Returns the deliveries recorded.
CREATE FUNCTION delivery_record_batch(p_claim_id uuid, p_ids uuid[], p_ok boolean[],
                                      p_retry_at timestamptz[], p_http_status integer[],
                                      p_latency_ms integer[], p_error text[],
                                      p_request text[], p_response text[],
                                      p_disable_after integer)
RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    n integer;
    -- Per integration: what this batch did to it, in the order of the arrays.
    g_id uuid[];
    g_any_ok boolean[];
    g_oks integer[];
    g_fails integer[];
    g_trailing integer[];
    g_alert_failed boolean[];
    g_last_ok boolean[];
    g_last_test boolean[];
    g_last_status integer[];
    g_last_latency integer[];
    g_last_error text[];
    g_last_alert_failure uuid[];
    v_disable uuid[];
    v_ws uuid[];
    v_fails integer[];
    v_error text[];
    v_delivery uuid[];
BEGIN
    PERFORM 1 FROM workspaces LIMIT 0;
    -- The deliveries and their attempts first (rows of this claim only);
    -- the integrations' rows are locked last, for as short a time as possible.
    WITH r AS (
        SELECT * FROM unnest(p_ids, p_ok, p_retry_at, p_http_status, p_latency_ms, p_error,
                             p_request, p_response)
               WITH ORDINALITY AS r(id, ok, retry_at, http_status, latency_ms, error,
                                    request, response, ord)
    ), d AS (
        SELECT d.id, d.workspace_id, d.integration_id, d.attempts, d.is_test, r.ok,
               r.retry_at, nullif(r.http_status, 0) AS http_status, r.latency_ms,
               r.error, r.request, substring(r.response FOR 4096) AS response, r.ord,
               CASE WHEN r.ok THEN 'delivered'
                    WHEN r.retry_at IS NOT NULL AND d.attempts < d.max_attempts THEN 'retry'
                    ELSE 'failed' END AS outcome
          FROM integration_deliveries d
          JOIN r ON r.id = d.id
         WHERE d.claim_id = p_claim_id AND d.status = 'sending'
           FOR UPDATE OF d
    ), ins AS (
        INSERT INTO integration_delivery_attempts (delivery_id, workspace_id, integration_id,
            attempt, outcome, http_status, latency_ms, error, request, response)
        SELECT d.id, d.workspace_id, d.integration_id, d.attempts, d.outcome, d.http_status,
               d.latency_ms, d.error, d.request, d.response
          FROM d
         ORDER BY d.ord
    ), upd AS (
        UPDATE integration_deliveries x
           SET status = CASE d.outcome WHEN 'retry' THEN 'queued' ELSE d.outcome END,
               next_attempt_at = CASE d.outcome WHEN 'retry' THEN d.retry_at ELSE x.next_attempt_at END,
               claim_id = NULL, lease_until = NULL,
               last_http_status = d.http_status, last_latency_ms = d.latency_ms,
               last_error = CASE WHEN d.ok THEN NULL ELSE d.error END,
               completed_at = CASE d.outcome WHEN 'retry' THEN NULL ELSE now() END
          FROM d
         WHERE x.id = d.id
        RETURNING 1
    ), last_ok AS (
        SELECT d.integration_id, max(d.ord) FILTER (WHERE d.ok) AS ord
          FROM d GROUP BY d.integration_id
    ), agg AS (
        SELECT d.integration_id, l.ord IS NOT NULL AS any_ok,
               count(*) FILTER (WHERE d.ok)::int AS oks,
               count(*) FILTER (WHERE NOT d.ok)::int AS fails,
               count(*) FILTER (WHERE NOT d.ok AND d.ord > coalesce(l.ord, 0))::int AS n_trailing,
               coalesce(bool_or(NOT d.ok AND NOT d.is_test AND d.ord > coalesce(l.ord, 0)), false) AS alert_failed,
               (array_agg(d.ok ORDER BY d.ord DESC))[1] AS last_ok,
               (array_agg(d.is_test ORDER BY d.ord DESC))[1] AS last_test,
               (array_agg(d.http_status ORDER BY d.ord DESC))[1] AS last_status,
               (array_agg(d.latency_ms ORDER BY d.ord DESC))[1] AS last_latency,
               (array_agg(d.error ORDER BY d.ord DESC) FILTER (WHERE NOT d.ok))[1] AS last_error,
               (array_agg(d.id ORDER BY d.ord DESC)
                   FILTER (WHERE NOT d.ok AND NOT d.is_test))[1] AS last_alert_failure
          FROM d JOIN last_ok l USING (integration_id)
         GROUP BY d.integration_id, l.ord
    )
    SELECT (SELECT count(*) FROM upd), array_agg(integration_id ORDER BY integration_id),
           array_agg(any_ok ORDER BY integration_id), array_agg(oks ORDER BY integration_id),
           array_agg(fails ORDER BY integration_id), array_agg(n_trailing ORDER BY integration_id),
           array_agg(alert_failed ORDER BY integration_id), array_agg(last_ok ORDER BY integration_id),
           array_agg(last_test ORDER BY integration_id), array_agg(last_status ORDER BY integration_id),
           array_agg(last_latency ORDER BY integration_id), array_agg(last_error ORDER BY integration_id),
           array_agg(last_alert_failure ORDER BY integration_id)
      INTO n, g_id, g_any_ok, g_oks, g_fails, g_trailing, g_alert_failed, g_last_ok, g_last_test,
           g_last_status, g_last_latency, g_last_error, g_last_alert_failure
      FROM agg;
    IF g_id IS NULL THEN
        RETURN coalesce(n, 0);
    END IF;

    -- In id order, so that batches recorded at once never deadlock. (NO KEY
    -- UPDATE: the foreign-key checks of other batches' rows go on meanwhile.)
    PERFORM 1 FROM integrations_config i WHERE i.id = ANY (g_id) ORDER BY i.id FOR NO KEY UPDATE;
    WITH g AS (
        SELECT * FROM unnest(g_id, g_any_ok, g_oks, g_fails, g_trailing, g_alert_failed, g_last_ok,
                             g_last_test, g_last_status, g_last_latency, g_last_error,
                             g_last_alert_failure)
               AS g(integration_id, any_ok, oks, fails, n_trailing, alert_failed, last_ok,
                    last_test, last_status, last_latency, last_error, last_alert_failure)
    ), cf AS (
        SELECT g.*, CASE WHEN g.any_ok THEN g.n_trailing
                         ELSE i.consecutive_failures + g.fails END AS new_fails
          FROM g JOIN integrations_config i ON i.id = g.integration_id
    ), iu AS (
        UPDATE integrations_config i
           SET consecutive_failures = cf.new_fails,
               total_events_sent = coalesce(i.total_events_sent, 0) + cf.oks,
               total_errors = coalesce(i.total_errors, 0) + cf.fails,
               last_sync_at = CASE WHEN cf.oks > 0 THEN now() ELSE i.last_sync_at END,
               last_error_at = CASE WHEN cf.fails > 0 THEN now() ELSE i.last_error_at END,
               last_error_message = CASE WHEN cf.fails > 0 THEN cf.last_error
                                         ELSE i.last_error_message END,
               health_status = CASE WHEN cf.new_fails = 0 THEN 'healthy'
                                    WHEN cf.new_fails >= 3 THEN 'unhealthy'
                                    ELSE 'degraded' END,
               health_check_message = CASE
                   WHEN cf.last_ok THEN format('%s delivered: HTTP %s in %s ms.',
                                               CASE WHEN cf.last_test THEN 'Test event' ELSE 'Alert' END,
                                               coalesce(cf.last_status, 0), cf.last_latency)
                   ELSE format('%s consecutive failure%s; last: %s', cf.new_fails,
                               CASE WHEN cf.new_fails = 1 THEN '' ELSE 's' END, cf.last_error) END,
               last_health_check_at = now()
          FROM cf
         WHERE i.id = cf.integration_id
        RETURNING i.id, i.workspace_id, i.is_enabled, cf.new_fails, cf.alert_failed,
                  cf.last_error, cf.last_alert_failure
    ), dis AS (
        SELECT * FROM iu
         WHERE iu.is_enabled AND iu.alert_failed AND p_disable_after > 0
           AND iu.new_fails >= p_disable_after
    )
    SELECT array_agg(dis.id), array_agg(dis.workspace_id), array_agg(dis.new_fails),
           array_agg(dis.last_error), array_agg(dis.last_alert_failure)
      INTO v_disable, v_ws, v_fails, v_error, v_delivery
      FROM dis;

    FOR k IN 1 .. coalesce(array_length(v_disable, 1), 0) LOOP
        UPDATE integrations_config
           SET is_enabled = FALSE,
               disabled_reason = format('Disabled after %s consecutive failed deliveries; the last: %s',
                                        v_fails[k], v_error[k])
         WHERE id = v_disable[k];
        INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, resource_id, changes)
        VALUES (v_ws[k], NULL, 'integration.auto_disabled', 'integration', v_disable[k],
                jsonb_build_object('old', jsonb_build_object('is_enabled', true),
                                   'new', jsonb_build_object('is_enabled', false),
                                   'reason', format('%s consecutive failed deliveries', v_fails[k]),
                                   'last_error', v_error[k], 'delivery_id', v_delivery[k]));
    END LOOP;
    RETURN coalesce(n, 0);
END
$$;

REVOKE ALL ON FUNCTION alert_fanout_batch(uuid[], uuid[], uuid[]),
    delivery_claim_batch(integer, integer, integer, integer),
    delivery_lease_claim(uuid, integer),
    delivery_record_batch(uuid, uuid[], boolean[], timestamptz[], integer[], integer[], text[], text[], text[], integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alert_fanout_batch(uuid[], uuid[], uuid[]),
    delivery_claim_batch(integer, integer, integer, integer),
    delivery_lease_claim(uuid, integer),
    delivery_record_batch(uuid, uuid[], boolean[], timestamptz[], integer[], integer[], text[], text[], text[], integer)
    TO settings_app;
