-- 006_rls (down)

DROP FUNCTION billing_workspace_for_customer(text);
DROP FUNCTION invitation_lookup(text);
DROP FUNCTION auth_user_workspaces(uuid);
DROP FUNCTION auth_session_context(text, text, integer);
DROP FUNCTION auth_login_lookup(text);

REVOKE SELECT ON plan_catalog FROM settings_app;
REVOKE USAGE ON SEQUENCE login_attempts_id_seq FROM settings_app;
REVOKE SELECT, INSERT, UPDATE, DELETE ON sessions, login_attempts, stripe_events
    FROM settings_app;
REVOKE UPDATE (full_name, password_hash, is_verified) ON users FROM settings_app;
REVOKE INSERT (email, full_name, is_verified) ON users FROM settings_app;
REVOKE SELECT (id, email, full_name, is_verified, created_at, updated_at)
    ON users FROM settings_app;
REVOKE SELECT, INSERT ON audit_logs FROM settings_app;
REVOKE DELETE ON integrations_config FROM settings_app;
REVOKE SELECT, INSERT, UPDATE ON
    workspaces, team_members, billing_config, integrations_config,
    agents, api_keys, workspace_members, usage_history
    FROM settings_app;

DROP POLICY usage_history_isolation ON usage_history;
ALTER TABLE usage_history DISABLE ROW LEVEL SECURITY;
DROP POLICY audit_logs_isolation ON audit_logs;
ALTER TABLE audit_logs DISABLE ROW LEVEL SECURITY;
DROP POLICY workspace_members_isolation ON workspace_members;
ALTER TABLE workspace_members DISABLE ROW LEVEL SECURITY;
DROP POLICY api_keys_isolation ON api_keys;
ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY;
DROP POLICY agents_isolation ON agents;
ALTER TABLE agents DISABLE ROW LEVEL SECURITY;
DROP POLICY integrations_config_isolation ON integrations_config;
ALTER TABLE integrations_config DISABLE ROW LEVEL SECURITY;
DROP POLICY billing_config_isolation ON billing_config;
ALTER TABLE billing_config DISABLE ROW LEVEL SECURITY;
DROP POLICY team_members_isolation ON team_members;
ALTER TABLE team_members DISABLE ROW LEVEL SECURITY;
DROP POLICY workspaces_isolation ON workspaces;
ALTER TABLE workspaces DISABLE ROW LEVEL SECURITY;
