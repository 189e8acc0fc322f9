-- 008_billing: what the billing page and the Stripe webhook need beyond
-- 004_plans_billing and 006_rls.
--
--   * billing_config.stripe_last_event_at: Stripe's creation time of the
--     last webhook event applied to the row. An event created earlier than
--     that (delivered out of order) is recorded but never applied, so a late
--     delivery cannot roll the status back.
--   * billing_audit_fields() / billing_audit_changes(): the billing columns
--     an audit row shows, and the old/new values of those that changed.
--   * billing_rollover(): closes the billing cycle when it has ended. The
--     trace counter of the ended cycle(s) goes to usage_history, the counter
--     resets and the cycle advances by whole months (trace limits are per
--     month, on monthly and annual billing alike; an annual plan is charged
--     on next_billing_date once a year). A cancellation whose effective date
--     has passed takes effect (status canceled). Audited. Runs with the
--     caller's rights: the billing page calls it in its own transaction,
--     under row-level security.
--   * billing_rollover_due(): the same for every workspace whose cycle has
--     ended, for a periodic job (`billing --rollover`, e.g. from cron).

ALTER TABLE billing_config ADD COLUMN stripe_last_event_at TIMESTAMPTZ;

COMMENT ON COLUMN billing_config.stripe_last_event_at IS
    'Creation time (Stripe''s) of the last webhook event applied; older events are not applied';

-- ---------------------------------------------------------------------
-- Audit helpers
-- ---------------------------------------------------------------------
CREATE FUNCTION billing_audit_fields(b billing_config) RETURNS jsonb
    LANGUAGE sql
    IMMUTABLE
    SET search_path = public, pg_temp
AS $$
    SELECT jsonb_build_object(
        'plan_type', b.plan_type,
        'plan_status', b.plan_status,
        'billing_interval', b.billing_interval,
        'traces_per_month_limit', b.traces_per_month_limit,
        'team_members_limit', b.team_members_limit,
        'api_keys_limit', b.api_keys_limit,
        'data_retention_days', b.data_retention_days,
        'custom_integrations_limit', b.custom_integrations_limit,
        'monthly_price_usd', b.monthly_price_usd,
        'annual_price_usd', b.annual_price_usd,
        'traces_current_month', b.traces_current_month,
        'billing_cycle_start', b.billing_cycle_start,
        'billing_cycle_end', b.billing_cycle_end,
        'next_billing_date', b.next_billing_date,
        'trial_ends_at', b.trial_ends_at,
        'auto_renew', b.auto_renew,
        'cancellation_requested', b.cancellation_requested,
        'cancellation_effective_date', b.cancellation_effective_date,
        'stripe_subscription_id', b.stripe_subscription_id)
$$;

COMMENT ON FUNCTION billing_audit_fields(billing_config) IS
    'The billing_config columns shown in audit rows, as one JSON object';

-- {"old": {...}, "new": {...}} with only the keys whose values differ.
CREATE FUNCTION billing_audit_changes(p_old jsonb, p_new jsonb) RETURNS jsonb
    LANGUAGE sql
    IMMUTABLE
    SET search_path = public, pg_temp
AS $$
    SELECT jsonb_build_object(
        'old', coalesce(jsonb_object_agg(k, p_old -> k)
                        FILTER (WHERE p_old -> k IS DISTINCT FROM p_new -> k), '{}'),
        'new', coalesce(jsonb_object_agg(k, p_new -> k)
                        FILTER (WHERE p_old -> k IS DISTINCT FROM p_new -> k), '{}'))
      FROM jsonb_object_keys(p_old || p_new) AS k
$$;

COMMENT ON FUNCTION billing_audit_changes(jsonb, jsonb) IS
    'Old and new values of the keys that differ between two JSON objects';

-- ---------------------------------------------------------------------
-- Billing cycle rollover
-- ---------------------------------------------------------------------
-- A cycle runs from billing_cycle_start to billing_cycle_end inclusive;
-- it has ended when billing_cycle_end < current_date (a missing end counts
-- as one month after the start). Returns one row (the closed period and its
-- traces) when it rolled over, none otherwise. The row is locked FOR UPDATE
-- only when due, and the condition is re-checked after the lock, so two
-- requests at the turn of the month close the cycle once.
CREATE FUNCTION billing_rollover(p_workspace_id uuid)
RETURNS TABLE(closed_start date, closed_end date, closed_traces integer)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_old      billing_config;
    v_new      billing_config;
    v_end      date;
    v_start    date;
    v_next     date;
    v_ended    boolean;
BEGIN
    SELECT * INTO v_old
      FROM billing_config b
     WHERE b.workspace_id = p_workspace_id
       AND coalesce(b.billing_cycle_end,
                    (b.billing_cycle_start + interval '1 month' - interval '1 day')::date)
           < current_date
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    v_end := coalesce(v_old.billing_cycle_end,
                      (v_old.billing_cycle_start + interval '1 month' - interval '1 day')::date);
    LOOP
        v_start := v_end + 1;
        v_end := (v_start + interval '1 month' - interval '1 day')::date;
        EXIT WHEN v_end >= current_date;
    END LOOP;

    -- The ended cancellation, if any, takes effect now.
    v_ended := coalesce(v_old.cancellation_requested, false)
               AND v_old.cancellation_effective_date IS NOT NULL
               AND v_old.cancellation_effective_date < current_date;

    IF v_ended OR v_old.plan_status = 'canceled' THEN
        v_next := NULL;
    ELSIF v_old.billing_interval = 'annual' THEN
        v_next := coalesce(v_old.next_billing_date, v_start);
        WHILE v_next <= v_start OR v_next < current_date LOOP
            v_next := (v_next + interval '1 year')::date;
        END LOOP;
    ELSE
        v_next := v_end + 1;
    END IF;

    INSERT INTO usage_history (workspace_id, cycle_start, cycle_end, traces)
    VALUES (p_workspace_id, v_old.billing_cycle_start, v_start - 1,
            v_old.traces_current_month)
    ON CONFLICT (workspace_id, cycle_start) DO UPDATE
        SET traces = usage_history.traces + EXCLUDED.traces,
            cycle_end = greatest(usage_history.cycle_end, EXCLUDED.cycle_end),
            recorded_at = now();

    UPDATE billing_config b
       SET traces_current_month = 0,
           usage_reset_at = now(),
           billing_cycle_start = v_start,
           billing_cycle_end = v_end,
           next_billing_date = v_next,
           plan_status = CASE WHEN v_ended THEN 'canceled' ELSE b.plan_status END,
           auto_renew = CASE WHEN v_ended THEN false ELSE b.auto_renew END,
           cancellation_requested = CASE WHEN v_ended THEN false
                                         ELSE b.cancellation_requested END
     WHERE b.id = v_old.id
    RETURNING * INTO v_new;

    INSERT INTO audit_logs (workspace_id, user_id, action, resource_type,
                            resource_id, changes)
    VALUES (p_workspace_id, NULL,
            CASE WHEN v_ended THEN 'billing.subscription_ended'
                 ELSE 'billing.cycle_rolled_over' END,
            'billing_config', v_old.id,
            billing_audit_changes(billing_audit_fields(v_old), billing_audit_fields(v_new))
            || jsonb_build_object('usage_recorded', jsonb_build_object(
                   'cycle_start', v_old.billing_cycle_start,
                   'cycle_end', v_start - 1,
                   'traces', v_old.traces_current_month)));

    closed_start := v_old.billing_cycle_start;
    closed_end := v_start - 1;
    closed_traces := v_old.traces_current_month;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION billing_rollover(uuid) IS
    'Closes an ended billing cycle: usage_history row, trace counter reset, next cycle; audited';

-- Every workspace whose cycle has ended; returns how many rolled over.
-- SECURITY DEFINER: a periodic job has no workspace context.
CREATE FUNCTION billing_rollover_due() RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_ws uuid;
    v_n  integer := 0;
BEGIN
    FOR v_ws IN
        SELECT b.workspace_id
          FROM billing_config b
         WHERE coalesce(b.billing_cycle_end,
                        (b.billing_cycle_start + interval '1 month' - interval '1 day')::date)
               < current_date
         ORDER BY b.workspace_id
    LOOP
        IF EXISTS (SELECT 1 FROM billing_rollover(v_ws)) THEN
            v_n := v_n + 1;
        END IF;
    END LOOP;
    RETURN v_n;
END
$$;

COMMENT ON FUNCTION billing_rollover_due() IS
    'Rolls over every ended billing cycle (periodic job); returns the number of workspaces';

REVOKE EXECUTE ON FUNCTION billing_rollover(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION billing_rollover_due() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_audit_fields(billing_config) TO settings_app;
GRANT EXECUTE ON FUNCTION billing_audit_changes(jsonb, jsonb) TO settings_app;
GRANT EXECUTE ON FUNCTION billing_rollover(uuid) TO settings_app;
GRANT EXECUTE ON FUNCTION billing_rollover_due() TO settings_app;
