-- Development seed (SPEC section 3), loaded once into a freshly migrated,
-- empty database as the owner role, in ONE transaction:
--   psql -X -v ON_ERROR_STOP=1 -1 -f sql/seed/dev.sql "$OWNER_URL"
-- (no BEGIN/COMMIT in this file, like the migrations). Plain INSERTs only: a
-- row that cannot land stops the load, and the check at the end fails the
-- transaction unless everything is exactly as described.
--
-- Every seeded password is "demo-password" (bcrypt, cost 11).
-- The pending invitation's link token is the fixed development value
--   dev-invite-token-pending-example-com
-- i.e. /invite/accept?token=dev-invite-token-pending-example-com
--
-- Departures from the schema document's seed, on purpose:
--   * the pending invitation and the inactive member have their own users
--     (pending@example.com: no password, not verified; former@example.com);
--     the document pointed them at the owner's and the member's user ids,
--     which UNIQUE NULLS NOT DISTINCT (workspace_id, user_id, deleted_at)
--     rejects;
--   * invitation_token holds the SHA-256 hex of the token, not the token;
--   * the viewer's invited_by/created_by pointed at a user id that does not
--     exist (...0002); it is the admin user here;
--   * team_members_current / api_keys_current are written as in the
--     document but are recomputed by the 005_counters triggers anyway.

-- ================================================================
-- Workspaces
-- ================================================================
INSERT INTO workspaces (id, name, slug) VALUES
    ('00000000-0000-0000-0000-000000000001', 'Acme Corp', 'acme'),
    ('00000000-0000-0000-0000-000000000002', 'Globex',    'globex');

-- ================================================================
-- Users (password "demo-password" unless NULL)
-- ================================================================
INSERT INTO users (id, email, password_hash, full_name, is_verified) VALUES
    ('00000000-0000-0000-0000-000000000001', 'demo@example.com',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Demo Owner', TRUE),
    ('10000000-0000-0000-0000-000000000002', 'admin@example.com',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Admin User', TRUE),
    ('10000000-0000-0000-0000-000000000003', 'member@example.com',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Member User', TRUE),
    ('10000000-0000-0000-0000-000000000004', 'viewer@example.com',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Viewer User', TRUE),
    -- invited, has not accepted yet: no password, not verified
    ('10000000-0000-0000-0000-000000000005', 'pending@example.com',
     NULL, NULL, FALSE),
    -- deactivated member of Acme
    ('10000000-0000-0000-0000-000000000006', 'former@example.com',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Former Member', TRUE),
    -- owner of the second workspace
    ('10000000-0000-0000-0000-000000000007', 'owner@globex.example',
     '$2b$11$4zWJ3YB1jg3kKhWuIfX9du39Qu75xw8EzmBR.LNoo3ke7dgb6PUsq', 'Globex Owner', TRUE);

-- ================================================================
-- team_members
-- ================================================================

-- Acme: owner (self-registered)
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    'owner', 'active',
    NULL,
    '00000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '30 days',
    NOW() - INTERVAL '1 hour'
);

-- Acme: admin (active)
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000002',
    '00000000-0000-0000-0000-000000000001',
    '10000000-0000-0000-0000-000000000002',
    'admin', 'active',
    '00000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '20 days',
    NOW() - INTERVAL '2 hours'
);

-- Acme: member (active)
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000003',
    '00000000-0000-0000-0000-000000000001',
    '10000000-0000-0000-0000-000000000003',
    'member', 'active',
    '00000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '15 days',
    NOW() - INTERVAL '5 hours'
);

-- Acme: viewer (active), invited by the admin
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000004',
    '00000000-0000-0000-0000-000000000001',
    '10000000-0000-0000-0000-000000000004',
    'viewer', 'active',
    '10000000-0000-0000-0000-000000000002',
    '10000000-0000-0000-0000-000000000002',
    NOW() - INTERVAL '10 days',
    NOW() - INTERVAL '1 day'
);

-- Acme: pending invitation for pending@example.com (member)
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invitation_email, invitation_token, invitation_expires_at,
    invited_by, created_by
) VALUES (
    '10000000-0000-0000-0000-000000000005',
    '00000000-0000-0000-0000-000000000001',
    '10000000-0000-0000-0000-000000000005',
    'member', 'pending',
    'pending@example.com',
    encode(sha256(convert_to('dev-invite-token-pending-example-com', 'UTF8')), 'hex'),
    NOW() + INTERVAL '5 days',
    '00000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001'
);

-- Acme: inactive (deactivated) member former@example.com
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000006',
    '00000000-0000-0000-0000-000000000001',
    '10000000-0000-0000-0000-000000000006',
    'member', 'inactive',
    '00000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '60 days',
    NOW() - INTERVAL '30 days'
);

-- Globex: owner
INSERT INTO team_members (
    id, workspace_id, user_id, role, status,
    invited_by, created_by, accepted_at, last_active_at
) VALUES (
    '10000000-0000-0000-0000-000000000007',
    '00000000-0000-0000-0000-000000000002',
    '10000000-0000-0000-0000-000000000007',
    'owner', 'active',
    NULL,
    '10000000-0000-0000-0000-000000000007',
    NOW() - INTERVAL '45 days',
    NOW() - INTERVAL '3 hours'
);

-- ================================================================
-- API keys: three active keys for Acme (only hashes are stored; the keys
-- themselves are not usable anywhere).
-- ================================================================
INSERT INTO api_keys (id, workspace_id, name, key_prefix, key_hash, created_by, created_at, last_used_at) VALUES
    ('40000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000001',
     'Production ingest', 'ak_live_4f1c',
     encode(sha256(convert_to('ak_live_4f1c-dev-seed-key-production', 'UTF8')), 'hex'),
     '00000000-0000-0000-0000-000000000001',
     NOW() - INTERVAL '28 days', NOW() - INTERVAL '2 minutes'),
    ('40000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001',
     'Staging ingest', 'ak_live_9b2e',
     encode(sha256(convert_to('ak_live_9b2e-dev-seed-key-staging', 'UTF8')), 'hex'),
     '10000000-0000-0000-0000-000000000002',
     NOW() - INTERVAL '18 days', NOW() - INTERVAL '6 hours'),
    ('40000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001',
     'CI pipeline', 'ak_live_c7d0',
     encode(sha256(convert_to('ak_live_c7d0-dev-seed-key-ci', 'UTF8')), 'hex'),
     '10000000-0000-0000-0000-000000000003',
     NOW() - INTERVAL '9 days', NULL);

-- ================================================================
-- billing_config
-- ================================================================

-- Acme: as the schema document (professional plan)
INSERT INTO billing_config (
    id, workspace_id, plan_type, plan_status,

    -- Limits (Professional plan)
    traces_per_month_limit, team_members_limit, api_keys_limit,
    data_retention_days, custom_integrations_limit,

    -- Current usage
    traces_current_month, team_members_current, api_keys_current,
    usage_reset_at,

    -- Billing cycle
    billing_cycle_start, billing_cycle_end, next_billing_date,

    -- Pricing
    monthly_price_usd, billing_interval, auto_renew,

    -- Stripe (test data)
    stripe_customer_id, stripe_subscription_id,
    payment_method_last4, payment_method_brand,

    created_by
) VALUES (
    '20000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    'professional', 'active',

    1000000,  -- 1M traces/month
    25,       -- 25 team members
    10,       -- 10 API keys
    90,       -- 90 days retention
    5,        -- 5 custom integrations

    650000,   -- 650K traces this month
    4,        -- 4 active team members (recomputed by trigger)
    3,        -- 3 API keys (recomputed by trigger)
    DATE_TRUNC('month', CURRENT_DATE),

    DATE_TRUNC('month', CURRENT_DATE)::DATE,
    (DATE_TRUNC('month', CURRENT_DATE) + INTERVAL '1 month - 1 day')::DATE,
    (DATE_TRUNC('month', CURRENT_DATE) + INTERVAL '1 month')::DATE,

    99.00, 'monthly', TRUE,

    'cus_test_abc123def456', 'sub_test_xyz789uvw456', '4242', 'Visa',

    '00000000-0000-0000-0000-000000000001'
);

-- Globex: starter plan, limits and price from the plan catalog
INSERT INTO billing_config (
    id, workspace_id, plan_type, plan_status,
    traces_per_month_limit, team_members_limit, api_keys_limit,
    data_retention_days, custom_integrations_limit,
    traces_current_month, usage_reset_at,
    billing_cycle_start, billing_cycle_end, next_billing_date,
    monthly_price_usd, billing_interval, auto_renew,
    stripe_customer_id, stripe_subscription_id,
    payment_method_last4, payment_method_brand,
    created_by
) VALUES (
    '20000000-0000-0000-0000-000000000002',
    '00000000-0000-0000-0000-000000000002',
    'starter', 'active',
    (SELECT traces_per_month_limit FROM plan_catalog WHERE plan_type = 'starter'),
    (SELECT team_members_limit FROM plan_catalog WHERE plan_type = 'starter'),
    (SELECT api_keys_limit FROM plan_catalog WHERE plan_type = 'starter'),
    (SELECT data_retention_days FROM plan_catalog WHERE plan_type = 'starter'),
    (SELECT custom_integrations_limit FROM plan_catalog WHERE plan_type = 'starter'),
    12500, DATE_TRUNC('month', CURRENT_DATE),
    DATE_TRUNC('month', CURRENT_DATE)::DATE,
    (DATE_TRUNC('month', CURRENT_DATE) + INTERVAL '1 month - 1 day')::DATE,
    (DATE_TRUNC('month', CURRENT_DATE) + INTERVAL '1 month')::DATE,
    (SELECT monthly_price_usd FROM plan_catalog WHERE plan_type = 'starter'),
    'monthly', TRUE,
    'cus_test_globex000001', 'sub_test_globex000001', '5555', 'Mastercard',
    '10000000-0000-0000-0000-000000000007'
);

-- ================================================================
-- integrations_config (no credentials: the application encrypts them
-- with its key ring when a secret is entered in the form)
-- ================================================================

-- Acme: Slack (enabled, healthy)
INSERT INTO integrations_config (
    id, workspace_id, integration_type, integration_name, config_data,
    is_enabled, health_status, last_health_check_at, last_sync_at,
    total_events_sent, event_filters, created_by
) VALUES (
    '30000000-0000-0000-0000-000000000001',
    '00000000-0000-0000-0000-000000000001',
    'slack',
    'Engineering Alerts',
    '{
        "channel_id": "C01234567",
        "channel_name": "#agent-alerts",
        "workspace_url": "https://acme-corp.slack.com",
        "mention_users": ["U12345678"]
    }'::jsonb,
    TRUE,
    'healthy',
    NOW() - INTERVAL '15 minutes',
    NOW() - INTERVAL '5 minutes',
    1247,
    '{
        "alert_types": ["budget_exceeded", "error_spike", "latency_high"],
        "severity_min": "warning",
        "agents": ["customer_support", "sales_agent"]
    }'::jsonb,
    '00000000-0000-0000-0000-000000000001'
);

-- Acme: PagerDuty (enabled, healthy)
INSERT INTO integrations_config (
    id, workspace_id, integration_type, integration_name, config_data,
    is_enabled, health_status, last_health_check_at, last_sync_at,
    total_events_sent, event_filters, created_by
) VALUES (
    '30000000-0000-0000-0000-000000000002',
    '00000000-0000-0000-0000-000000000001',
    'pagerduty',
    'Production Incidents',
    '{
        "service_id": "PSERVICE123",
        "service_name": "AI Agent Platform",
        "severity_mapping": {
            "critical": "critical",
            "high": "error",
            "medium": "warning",
            "low": "info"
        }
    }'::jsonb,
    TRUE,
    'healthy',
    NOW() - INTERVAL '20 minutes',
    NOW() - INTERVAL '2 hours',
    34,
    '{
        "alert_types": ["budget_exceeded", "system_down"],
        "severity_min": "high"
    }'::jsonb,
    '00000000-0000-0000-0000-000000000001'
);

-- Acme: webhook (enabled, degraded)
INSERT INTO integrations_config (
    id, workspace_id, integration_type, integration_name, config_data,
    is_enabled, health_status, health_check_message,
    last_health_check_at, last_sync_at, last_error_at, last_error_message,
    total_events_sent, total_errors, event_filters, rate_limit_per_minute,
    created_by
) VALUES (
    '30000000-0000-0000-0000-000000000003',
    '00000000-0000-0000-0000-000000000001',
    'webhook',
    'Custom Analytics Endpoint',
    '{
        "url": "https://analytics.acme-corp.com/webhooks/agent-events",
        "method": "POST",
        "headers": {
            "Content-Type": "application/json",
            "X-API-Version": "v1"
        },
        "auth_type": "bearer",
        "timeout_ms": 5000
    }'::jsonb,
    TRUE,
    'degraded',
    'Intermittent timeouts detected (3/10 recent requests)',
    NOW() - INTERVAL '10 minutes',
    NOW() - INTERVAL '3 minutes',
    NOW() - INTERVAL '3 minutes',
    'Request timeout after 5000ms',
    892,
    23,
    '{
        "alert_types": ["all"],
        "include_trace_data": true
    }'::jsonb,
    100,
    '00000000-0000-0000-0000-000000000001'
);

-- Acme: Sentry (disabled)
INSERT INTO integrations_config (
    id, workspace_id, integration_type, integration_name, config_data,
    is_enabled, health_status, last_health_check_at, last_sync_at,
    total_events_sent, created_by
) VALUES (
    '30000000-0000-0000-0000-000000000004',
    '00000000-0000-0000-0000-000000000001',
    'sentry',
    'Error Tracking',
    '{
        "environment": "production",
        "sample_rate": 1.0,
        "traces_sample_rate": 0.1
    }'::jsonb,
    FALSE,
    'unknown',
    NULL,
    NOW() - INTERVAL '7 days',
    156,
    '00000000-0000-0000-0000-000000000001'
);

-- Globex: Slack
INSERT INTO integrations_config (
    id, workspace_id, integration_type, integration_name, config_data,
    is_enabled, health_status, last_health_check_at, last_sync_at,
    total_events_sent, event_filters, created_by
) VALUES (
    '30000000-0000-0000-0000-000000000005',
    '00000000-0000-0000-0000-000000000002',
    'slack',
    'Globex Alerts',
    '{
        "channel_id": "C09876543",
        "channel_name": "#globex-alerts",
        "workspace_url": "https://globex.slack.com"
    }'::jsonb,
    TRUE,
    'healthy',
    NOW() - INTERVAL '30 minutes',
    NOW() - INTERVAL '1 hour',
    88,
    '{
        "alert_types": ["error_spike"],
        "severity_min": "error"
    }'::jsonb,
    '10000000-0000-0000-0000-000000000007'
);

-- ================================================================
-- Agents (the names the integrations' event filters refer to)
-- ================================================================
INSERT INTO agents (id, workspace_id, name, description) VALUES
    ('50000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000001',
     'customer_support', 'Answers customer tickets'),
    ('50000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001',
     'sales_agent', 'Qualifies inbound sales leads'),
    ('50000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000001',
     'research_assistant', 'Summarises documents for analysts');

-- ================================================================
-- Check: refuse to commit a seed that did not land exactly.
-- ================================================================
DO $$
DECLARE
    acme   CONSTANT uuid := '00000000-0000-0000-0000-000000000001';
    globex CONSTANT uuid := '00000000-0000-0000-0000-000000000002';
    n integer;
    bc record;
BEGIN
    SELECT count(*) INTO n FROM workspaces;
    IF n <> 2 THEN RAISE EXCEPTION 'seed: % workspaces, expected 2', n; END IF;

    SELECT count(*) INTO n FROM users;
    IF n <> 7 THEN RAISE EXCEPTION 'seed: % users, expected 7', n; END IF;

    SELECT count(*) INTO n FROM team_members WHERE workspace_id = acme;
    IF n <> 6 THEN RAISE EXCEPTION 'seed: % Acme team_members, expected 6', n; END IF;

    SELECT count(*) INTO n FROM team_members WHERE workspace_id = globex;
    IF n <> 1 THEN RAISE EXCEPTION 'seed: % Globex team_members, expected 1', n; END IF;

    SELECT count(*) INTO n FROM integrations_config WHERE workspace_id = acme;
    IF n <> 4 THEN RAISE EXCEPTION 'seed: % Acme integrations, expected 4', n; END IF;

    SELECT count(*) INTO n FROM integrations_config WHERE workspace_id = globex;
    IF n <> 1 THEN RAISE EXCEPTION 'seed: % Globex integrations, expected 1', n; END IF;

    SELECT * INTO bc FROM billing_config WHERE workspace_id = acme;
    IF NOT FOUND OR bc.team_members_current <> 4 OR bc.api_keys_current <> 3 THEN
        RAISE EXCEPTION 'seed: Acme billing counters wrong (% members, % keys)',
            bc.team_members_current, bc.api_keys_current;
    END IF;

    SELECT * INTO bc FROM billing_config WHERE workspace_id = globex;
    IF NOT FOUND OR bc.team_members_current <> 1 OR bc.api_keys_current <> 0
       OR bc.team_members_limit IS DISTINCT FROM 10 THEN
        RAISE EXCEPTION 'seed: Globex billing row wrong';
    END IF;
END
$$;

-- Integrations without the secret they need cannot deliver anything: their
-- health is unknown until a secret is set and a delivery or health check
-- succeeds (the schema document's seed called them healthy).
UPDATE integrations_config
   SET health_status = 'unknown',
       health_check_message = 'No ' || CASE integration_type WHEN 'slack' THEN 'bot token'
                                          WHEN 'pagerduty' THEN 'routing key'
                                          WHEN 'sentry' THEN 'DSN' WHEN 'datadog' THEN 'API key'
                                          ELSE 'secret' END
                              || ' set: nothing can be delivered until it is.'
 WHERE credentials_encrypted IS NULL
   AND health_status = 'healthy';
