-- 004_plans_billing: the plan catalog (the one place plan limits and prices
-- live), per-cycle usage history, and received Stripe events.

CREATE TABLE plan_catalog (
    plan_type                  VARCHAR(32) PRIMARY KEY,
    traces_per_month_limit     INTEGER,
    team_members_limit         INTEGER,
    api_keys_limit             INTEGER,
    data_retention_days        INTEGER NOT NULL,
    custom_integrations_limit  INTEGER,
    monthly_price_usd          DECIMAL(10, 2),
    annual_price_usd           DECIMAL(10, 2),
    self_serve                 BOOLEAN NOT NULL,
    sort_order                 INTEGER NOT NULL,

    CONSTRAINT plan_catalog_plan_type_check
        CHECK (plan_type IN ('free', 'starter', 'professional', 'enterprise')),
    CONSTRAINT plan_catalog_sort_order_key UNIQUE (sort_order),
    CONSTRAINT plan_catalog_limits_check
        CHECK (coalesce(traces_per_month_limit, 0) >= 0
           AND coalesce(team_members_limit, 0) >= 0
           AND coalesce(api_keys_limit, 0) >= 0
           AND data_retention_days > 0
           AND coalesce(custom_integrations_limit, 0) >= 0
           AND coalesce(monthly_price_usd, 0) >= 0
           AND coalesce(annual_price_usd, 0) >= 0)
);

COMMENT ON TABLE plan_catalog IS 'Plans offered: limits and prices (the only source of these numbers)';
COMMENT ON COLUMN plan_catalog.traces_per_month_limit IS 'NULL = unlimited';
COMMENT ON COLUMN plan_catalog.team_members_limit IS 'Active members plus pending invitations; NULL = unlimited';
COMMENT ON COLUMN plan_catalog.api_keys_limit IS 'Active API keys; NULL = unlimited';
COMMENT ON COLUMN plan_catalog.custom_integrations_limit IS 'Integrations of type webhook or custom; NULL = unlimited';
COMMENT ON COLUMN plan_catalog.monthly_price_usd IS 'NULL = by contract';
COMMENT ON COLUMN plan_catalog.annual_price_usd IS 'NULL = by contract';
COMMENT ON COLUMN plan_catalog.self_serve IS 'FALSE = not selectable on the billing page (contact sales)';

INSERT INTO plan_catalog
    (plan_type, traces_per_month_limit, team_members_limit, api_keys_limit,
     data_retention_days, custom_integrations_limit,
     monthly_price_usd, annual_price_usd, self_serve, sort_order)
VALUES
    ('free',            10000,    3,    2,  14,    0,     0.00,    0.00, TRUE,  1),
    ('starter',        100000,   10,    5,  30,    2,    29.00,  290.00, TRUE,  2),
    ('professional',  1000000,   25,   10,  90,    5,    99.00,  990.00, TRUE,  3),
    ('enterprise',       NULL, NULL, NULL, 365, NULL,     NULL,    NULL, FALSE, 4);

-- Every workspace's plan must be a catalog plan.
ALTER TABLE billing_config
    ADD CONSTRAINT billing_config_plan_type_fkey
    FOREIGN KEY (plan_type) REFERENCES plan_catalog(plan_type);

-- ---------------------------------------------------------------------
-- usage_history: traces counted per closed billing cycle.
-- ---------------------------------------------------------------------
CREATE TABLE usage_history (
    id            UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    cycle_start   DATE NOT NULL,
    cycle_end     DATE NOT NULL,
    traces        INTEGER NOT NULL DEFAULT 0,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT usage_history_workspace_cycle_key UNIQUE (workspace_id, cycle_start),
    CONSTRAINT usage_history_cycle_check CHECK (cycle_end >= cycle_start),
    CONSTRAINT usage_history_traces_check CHECK (traces >= 0)
);

COMMENT ON TABLE usage_history IS 'Trace usage of past billing cycles, one row per workspace and cycle';

-- ---------------------------------------------------------------------
-- stripe_events: every verified webhook event, keyed by Stripe's event id
-- so that a redelivered event is recognised and applied once.
-- ---------------------------------------------------------------------
CREATE TABLE stripe_events (
    event_id       TEXT PRIMARY KEY,
    workspace_id   UUID REFERENCES workspaces(id) ON DELETE SET NULL,
    event_type     TEXT NOT NULL,
    event_created  TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    payload        JSONB NOT NULL
);

CREATE INDEX idx_stripe_events_workspace_created
    ON stripe_events (workspace_id, event_created DESC);

COMMENT ON TABLE stripe_events IS 'Processed Stripe webhook events (idempotency per event_id)';
COMMENT ON COLUMN stripe_events.event_created IS 'Stripe''s own creation time of the event (for ordering)';
COMMENT ON COLUMN stripe_events.workspace_id IS 'Workspace the event was applied to; NULL if none matched';
