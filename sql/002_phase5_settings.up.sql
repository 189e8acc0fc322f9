-- 002_phase5_settings: the Phase 5 tables of the schema document
-- (seed/phase5-settings-schema.md), column for column: team_members,
-- billing_config, integrations_config with their constraints, indexes,
-- updated_at triggers and comments.
--
-- Differences from the document's own migration script, all deliberate:
--   * no BEGIN/COMMIT (the runner wraps the file in one transaction);
--   * plain CREATE instead of CREATE ... IF NOT EXISTS, so that running on
--     a database that already has these objects fails loudly instead of
--     half-applying and being recorded as done;
--   * the COMMENT ON COLUMN statements of the document's "Table
--     Definitions" section are included (its script only had table
--     comments).
-- invitation_token holds the SHA-256 hex of the invitation token, never the
-- token itself (see the column comment).

-- =====================================================================
-- TABLE: team_members
-- PURPOSE: Workspace team management with RBAC
-- ISOLATION: workspace_id
-- NOTES: Replaces/extends existing workspace_members table
-- =====================================================================

CREATE TABLE team_members (
    -- Primary Key
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),

    -- Multi-Tenant Isolation
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,

    -- User Reference
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,

    -- Role-Based Access Control
    role VARCHAR(32) NOT NULL DEFAULT 'viewer',
    -- owner:  Full control including billing and deletion
    -- admin:  Manage team, agents, settings (no billing)
    -- member: Create/edit agents, view all data
    -- viewer: Read-only access to workspace

    -- Invitation & Status Management
    status VARCHAR(32) NOT NULL DEFAULT 'pending',
    -- pending:  Invitation sent but not accepted
    -- active:   Active team member
    -- inactive: Deactivated but not deleted

    invitation_email VARCHAR(256),
    -- Email where invitation was sent (may differ from user.email)

    invitation_token VARCHAR(128) UNIQUE,
    -- SHA-256 hex of the invitation token (the token itself is never stored)

    invitation_expires_at TIMESTAMPTZ,
    -- Invitation expiry (typically 7 days from creation)

    -- Audit Trail
    invited_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,

    -- Timestamps
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    accepted_at TIMESTAMPTZ,
    last_active_at TIMESTAMPTZ,

    -- Soft Delete
    deleted_at TIMESTAMPTZ,
    deleted_by UUID REFERENCES users(id) ON DELETE SET NULL,

    -- Constraints
    CONSTRAINT team_members_role_check
        CHECK (role IN ('owner', 'admin', 'member', 'viewer')),

    CONSTRAINT team_members_status_check
        CHECK (status IN ('pending', 'active', 'inactive')),

    -- Prevent duplicate active memberships
    CONSTRAINT team_members_unique_active_member
        UNIQUE NULLS NOT DISTINCT (workspace_id, user_id, deleted_at)
);

COMMENT ON TABLE team_members IS 'Enhanced workspace team management with RBAC and invitation workflow';
COMMENT ON COLUMN team_members.role IS 'Permission level: owner, admin, member, viewer';
COMMENT ON COLUMN team_members.status IS 'Membership status: pending, active, inactive';
COMMENT ON COLUMN team_members.invitation_token IS 'Secure token for invitation acceptance (SHA-256 hash)';
COMMENT ON COLUMN team_members.deleted_at IS 'Soft delete timestamp - NULL if active';

-- Primary workspace isolation query
CREATE INDEX idx_team_members_workspace_status
    ON team_members(workspace_id, status)
    WHERE deleted_at IS NULL;

-- User membership lookup
CREATE INDEX idx_team_members_user
    ON team_members(user_id)
    WHERE deleted_at IS NULL;

-- Active members only (most common query)
CREATE INDEX idx_team_members_active
    ON team_members(workspace_id, status, role)
    WHERE status = 'active' AND deleted_at IS NULL;

-- Invitation token lookup (used during invitation acceptance)
CREATE INDEX idx_team_members_invitation_token
    ON team_members(invitation_token)
    WHERE invitation_token IS NOT NULL AND deleted_at IS NULL;

-- Pending invitations (for cleanup jobs)
CREATE INDEX idx_team_members_pending_invitations
    ON team_members(status, invitation_expires_at)
    WHERE status = 'pending' AND deleted_at IS NULL;

-- Activity tracking
CREATE INDEX idx_team_members_last_active
    ON team_members(workspace_id, last_active_at DESC)
    WHERE status = 'active' AND deleted_at IS NULL;

-- Audit trail queries
CREATE INDEX idx_team_members_created_at
    ON team_members(created_at DESC);

CREATE TRIGGER update_team_members_updated_at
BEFORE UPDATE ON team_members
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

-- =====================================================================
-- TABLE: billing_config
-- PURPOSE: Subscription plans, usage limits, and billing management
-- ISOLATION: One record per workspace
-- NOTES: Integrates with Stripe for payment processing
-- =====================================================================

CREATE TABLE billing_config (
    -- Primary Key
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),

    -- Multi-Tenant Isolation (One-to-One with workspace)
    workspace_id UUID NOT NULL UNIQUE REFERENCES workspaces(id) ON DELETE CASCADE,

    -- Subscription Plan
    plan_type VARCHAR(32) NOT NULL DEFAULT 'free',
    plan_status VARCHAR(32) NOT NULL DEFAULT 'active',

    -- Plan Limits (NULL = unlimited)
    traces_per_month_limit INTEGER,
    -- Monthly trace ingestion limit
    team_members_limit INTEGER,
    -- Maximum team members allowed
    api_keys_limit INTEGER,
    -- Maximum API keys allowed
    data_retention_days INTEGER,
    -- How long traces are retained
    custom_integrations_limit INTEGER,
    -- Number of custom integrations allowed

    -- Current Usage (Reset monthly)
    traces_current_month INTEGER NOT NULL DEFAULT 0,
    -- Traces ingested this billing cycle
    team_members_current INTEGER NOT NULL DEFAULT 0,
    -- Current active team members (kept exact by triggers, 005_counters)
    api_keys_current INTEGER NOT NULL DEFAULT 0,
    -- Current active API keys (kept exact by triggers, 005_counters)

    -- Usage Metadata
    usage_reset_at TIMESTAMPTZ,
    -- When monthly usage counters were last reset
    overage_allowed BOOLEAN DEFAULT FALSE,
    -- Whether usage can exceed limits (with charges)

    -- Billing Cycle
    billing_cycle_start DATE NOT NULL DEFAULT CURRENT_DATE,
    -- Start of current billing period
    billing_cycle_end DATE,
    -- End of current billing period
    trial_ends_at TIMESTAMPTZ,
    -- Trial expiration (NULL if not on trial)

    -- Payment Integration
    stripe_customer_id VARCHAR(128) UNIQUE,
    -- Stripe customer identifier
    stripe_subscription_id VARCHAR(128) UNIQUE,
    -- Stripe subscription identifier
    payment_method_last4 VARCHAR(4),
    -- Last 4 digits of payment method
    payment_method_brand VARCHAR(32),
    -- Card brand (Visa, Mastercard, etc.)

    -- Pricing
    monthly_price_usd DECIMAL(10, 2),
    -- Current plan monthly price
    annual_price_usd DECIMAL(10, 2),
    -- Current plan annual price (if applicable)
    billing_interval VARCHAR(16) DEFAULT 'monthly',
    -- Billing frequency: 'monthly', 'annual'

    -- Status & Notifications
    next_billing_date DATE,
    -- Next scheduled billing
    auto_renew BOOLEAN DEFAULT TRUE,
    -- Whether subscription auto-renews
    cancellation_requested BOOLEAN DEFAULT FALSE,
    cancellation_effective_date DATE,
    -- When cancellation takes effect

    -- Timestamps
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Audit
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,

    -- Constraints
    CONSTRAINT billing_config_plan_type_check
        CHECK (plan_type IN ('free', 'starter', 'professional', 'enterprise')),

    CONSTRAINT billing_config_plan_status_check
        CHECK (plan_status IN ('active', 'trialing', 'past_due', 'canceled', 'suspended')),

    CONSTRAINT billing_config_billing_interval_check
        CHECK (billing_interval IN ('monthly', 'annual')),

    CONSTRAINT billing_config_usage_positive_check
        CHECK (
            traces_current_month >= 0 AND
            team_members_current >= 0 AND
            api_keys_current >= 0
        )
);

COMMENT ON TABLE billing_config IS 'Subscription plans, usage limits, and billing configuration per workspace';
COMMENT ON COLUMN billing_config.plan_type IS 'Subscription tier: free, starter, professional, enterprise';
COMMENT ON COLUMN billing_config.stripe_customer_id IS 'Stripe customer ID for payment processing';
COMMENT ON COLUMN billing_config.traces_per_month_limit IS 'Monthly trace ingestion limit (NULL = unlimited)';
COMMENT ON COLUMN billing_config.usage_reset_at IS 'Last monthly usage counter reset timestamp';

-- Plan type analytics
CREATE INDEX idx_billing_config_plan_type
    ON billing_config(plan_type, plan_status);

-- Billing cycle queries
CREATE INDEX idx_billing_config_billing_cycle
    ON billing_config(billing_cycle_end)
    WHERE plan_status = 'active';

-- Trial expiration tracking
CREATE INDEX idx_billing_config_trial_expiring
    ON billing_config(trial_ends_at)
    WHERE plan_status = 'trialing' AND trial_ends_at IS NOT NULL;

-- Stripe integration lookups
CREATE INDEX idx_billing_config_stripe_customer
    ON billing_config(stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;

-- Usage limit monitoring
CREATE INDEX idx_billing_config_usage_monitoring
    ON billing_config(workspace_id, traces_current_month)
    WHERE plan_status = 'active' AND traces_per_month_limit IS NOT NULL;

CREATE TRIGGER update_billing_config_updated_at
BEFORE UPDATE ON billing_config
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

-- =====================================================================
-- TABLE: integrations_config
-- PURPOSE: External service integrations configuration
-- ISOLATION: workspace_id (multiple integrations per workspace)
-- NOTES: Credentials are encrypted at the application layer
-- =====================================================================

CREATE TABLE integrations_config (
    -- Primary Key
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),

    -- Multi-Tenant Isolation
    workspace_id UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,

    -- Integration Type
    integration_type VARCHAR(64) NOT NULL,
    integration_name VARCHAR(256) NOT NULL,
    -- User-friendly name for this integration instance

    -- Configuration (Type-Specific, never secrets)
    config_data JSONB NOT NULL DEFAULT '{}',

    -- Encrypted Credentials
    credentials_encrypted TEXT,
    -- Application-layer encrypted credentials (AES-256-GCM)
    -- Sensitive tokens/keys go here, NOT in config_data
    encryption_key_id VARCHAR(128),
    -- ID of encryption key used (for key rotation)

    -- Status & Health
    is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Whether integration is actively processing events
    health_status VARCHAR(32) DEFAULT 'unknown',
    -- Health check status: 'healthy', 'degraded', 'unhealthy', 'unknown'
    last_health_check_at TIMESTAMPTZ,
    -- Last health verification timestamp
    health_check_message TEXT,
    -- Last health check result message

    -- Sync & Activity
    last_sync_at TIMESTAMPTZ,
    -- Last successful sync/send timestamp
    last_error_at TIMESTAMPTZ,
    -- Last error occurrence
    last_error_message TEXT,
    -- Last error details
    total_events_sent INTEGER DEFAULT 0,
    -- Lifetime event count
    total_errors INTEGER DEFAULT 0,
    -- Lifetime error count

    -- Event Filtering
    event_filters JSONB DEFAULT '{}',
    -- e.g. {"alert_types": [...], "severity_min": "warning", "agents": [...]}

    -- Rate Limiting
    rate_limit_per_minute INTEGER,
    -- Max events per minute (NULL = no limit)

    -- Retry Configuration
    retry_config JSONB DEFAULT '{"max_retries": 3, "backoff": "exponential"}',
    -- Retry behavior for failed sends

    -- Timestamps
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    -- Audit
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,

    -- Constraints
    CONSTRAINT integrations_config_type_check
        CHECK (integration_type IN (
            'slack', 'pagerduty', 'webhook', 'sentry', 'datadog', 'custom'
        )),

    CONSTRAINT integrations_config_health_check
        CHECK (health_status IN (
            'healthy', 'degraded', 'unhealthy', 'unknown'
        )),

    -- Prevent duplicate integration names per type and workspace
    CONSTRAINT integrations_config_unique_type
        UNIQUE (workspace_id, integration_type, integration_name)
);

COMMENT ON TABLE integrations_config IS 'External service integrations (Slack, PagerDuty, webhooks, etc.)';
COMMENT ON COLUMN integrations_config.integration_type IS 'Integration type: slack, pagerduty, webhook, sentry, datadog, custom';
COMMENT ON COLUMN integrations_config.credentials_encrypted IS 'AES-256-GCM encrypted credentials (encrypt at application layer)';
COMMENT ON COLUMN integrations_config.config_data IS 'JSONB configuration specific to integration type';
COMMENT ON COLUMN integrations_config.event_filters IS 'Filter rules for which events to send';
COMMENT ON COLUMN integrations_config.last_sync_at IS 'Last successful event delivery timestamp';

-- Primary workspace + enabled lookup
CREATE INDEX idx_integrations_workspace_enabled
    ON integrations_config(workspace_id, is_enabled, integration_type)
    WHERE is_enabled = TRUE;

-- Integration type filtering
CREATE INDEX idx_integrations_type
    ON integrations_config(integration_type, is_enabled);

-- Health monitoring
CREATE INDEX idx_integrations_health_status
    ON integrations_config(health_status, last_health_check_at DESC)
    WHERE is_enabled = TRUE;

-- Error tracking
CREATE INDEX idx_integrations_errors
    ON integrations_config(last_error_at DESC)
    WHERE last_error_at IS NOT NULL;

-- JSONB indexing for event filters
CREATE INDEX idx_integrations_event_filters
    ON integrations_config USING GIN (event_filters);

-- Activity tracking
CREATE INDEX idx_integrations_last_sync
    ON integrations_config(workspace_id, last_sync_at DESC)
    WHERE is_enabled = TRUE;

CREATE TRIGGER update_integrations_config_updated_at
BEFORE UPDATE ON integrations_config
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();
