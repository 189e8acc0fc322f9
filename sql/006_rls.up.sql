-- 006_rls: tenant isolation enforced by PostgreSQL for the application role.
--
-- The web executables connect as settings_app, which owns nothing, is not a
-- superuser and cannot bypass row-level security. On every workspace-scoped
-- table it sees and writes only the rows of the workspace named by the
-- transaction-local setting app.current_workspace_id; with the setting
-- unset or empty it sees no rows at all. The setting is made by
-- auth_session_context() once the session and the membership are verified
-- (or by the application itself, with set_config(..., true), for the
-- invitation and webhook flows after the lookups below).
--
-- RLS is ENABLEd, not FORCEd: the owner role (migrations, seed, and the
-- SECURITY DEFINER functions below) is not subject to it.
--
-- The few lookups that must cross workspaces are narrow SECURITY DEFINER
-- functions, executable by settings_app only.

-- ---------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
CREATE POLICY workspaces_isolation ON workspaces
    FOR ALL TO settings_app
    USING (id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY team_members_isolation ON team_members
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE billing_config ENABLE ROW LEVEL SECURITY;
CREATE POLICY billing_config_isolation ON billing_config
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE integrations_config ENABLE ROW LEVEL SECURITY;
CREATE POLICY integrations_config_isolation ON integrations_config
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
CREATE POLICY agents_isolation ON agents
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON api_keys
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE workspace_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY workspace_members_isolation ON workspace_members
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_logs_isolation ON audit_logs
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

ALTER TABLE usage_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_history_isolation ON usage_history
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

-- ---------------------------------------------------------------------
-- Privileges of settings_app
-- ---------------------------------------------------------------------
-- Workspace data (filtered by the policies above).
GRANT SELECT, INSERT, UPDATE ON
    workspaces, team_members, billing_config, integrations_config,
    agents, api_keys, workspace_members, usage_history
    TO settings_app;
-- Integrations have no soft delete: "delete" removes the row.
GRANT DELETE ON integrations_config TO settings_app;
-- The audit log is append-only for the application.
GRANT SELECT, INSERT ON audit_logs TO settings_app;

-- users: never the password hash (sign-in goes through auth_login_lookup);
-- setting a password (invitation acceptance) is allowed.
GRANT SELECT (id, email, full_name, is_verified, created_at, updated_at)
    ON users TO settings_app;
GRANT INSERT (email, full_name, is_verified) ON users TO settings_app;
GRANT UPDATE (full_name, password_hash, is_verified) ON users TO settings_app;

-- Not workspace data.
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, login_attempts, stripe_events
    TO settings_app;
GRANT USAGE ON SEQUENCE login_attempts_id_seq TO settings_app;
GRANT SELECT ON plan_catalog TO settings_app;

-- ---------------------------------------------------------------------
-- Cross-workspace lookups
-- ---------------------------------------------------------------------

-- Sign-in: the user id and bcrypt hash for an email (case-insensitive).
-- Zero rows for an unknown email; password_hash NULL for an invited user
-- who has not set a password.
CREATE FUNCTION auth_login_lookup(p_email text)
RETURNS TABLE(user_id uuid, password_hash text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.password_hash
      FROM users u
     WHERE lower(u.email) = lower(p_email)
$$;

-- Every request with a session cookie: validates the session (absolute and
-- idle expiry), refreshes last_seen_at at most once a minute and, when
-- p_slug names a live workspace in which the user is an active member,
-- returns that workspace and membership and sets app.current_workspace_id
-- for the rest of the current transaction (call it inside the request's
-- transaction). Otherwise the workspace columns are NULL and the setting
-- is cleared. Zero rows when the session is unknown or expired.
CREATE FUNCTION auth_session_context(p_token_hash text, p_slug text, p_idle_seconds integer)
RETURNS TABLE(session_id uuid, user_id uuid, user_email text, user_name text,
              csrf_token text, workspace_id uuid, workspace_name text,
              workspace_slug text, member_id uuid, member_role text,
              workspaces text)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_sess record;
    v_ws   record;
BEGIN
    PERFORM set_config('app.current_workspace_id', '', true);

    IF p_token_hash IS NULL OR p_token_hash !~ '^[0-9a-f]{64}$' THEN
        RETURN;
    END IF;

    SELECT se.id, se.user_id, se.csrf_token, se.last_seen_at,
           u.email, u.full_name
      INTO v_sess
      FROM sessions se
      JOIN users u ON u.id = se.user_id
     WHERE se.token_hash = p_token_hash::char(64)
       AND se.expires_at > now()
       AND (p_idle_seconds IS NULL
            OR se.last_seen_at > now() - make_interval(secs => p_idle_seconds));
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- Activity stamps are best effort: a row another transaction holds is
    -- skipped rather than waited for (waiting could deadlock with a team
    -- action that already locked it, and a stamp a minute late is harmless).
    IF v_sess.last_seen_at < now() - interval '60 seconds' THEN
        UPDATE sessions se
           SET last_seen_at = now()
         WHERE se.id = (SELECT s2.id FROM sessions s2 WHERE s2.id = v_sess.id
                         FOR NO KEY UPDATE SKIP LOCKED);
    END IF;

    session_id := v_sess.id;
    user_id    := v_sess.user_id;
    user_email := v_sess.email;
    user_name  := v_sess.full_name;
    csrf_token := v_sess.csrf_token;

    -- Every active membership at once: the workspace switcher's lines
    -- ("slug<TAB>name<TAB>role", by name) and the membership in p_slug's
    -- workspace, which sets the row-level security context.
    IF p_slug IS NOT NULL THEN
        FOR v_ws IN
            SELECT w.id AS ws_id, w.name AS ws_name, w.slug AS ws_slug,
                   tm.id AS tm_id, tm.role AS tm_role,
                   tm.last_active_at AS tm_last_active_at
              FROM team_members tm
              JOIN workspaces w ON w.id = tm.workspace_id
             WHERE tm.user_id = v_sess.user_id
               AND tm.status = 'active'
               AND tm.deleted_at IS NULL
               AND w.deleted_at IS NULL
             ORDER BY w.name, w.slug
        LOOP
            workspaces := coalesce(workspaces || E'\n', '') || v_ws.ws_slug || E'\t'
                          || translate(v_ws.ws_name, E'\t\n\r', '   ') || E'\t' || v_ws.tm_role;
            IF v_ws.ws_slug = p_slug THEN
                workspace_id   := v_ws.ws_id;
                workspace_name := v_ws.ws_name;
                workspace_slug := v_ws.ws_slug;
                member_id      := v_ws.tm_id;
                member_role    := v_ws.tm_role;
                PERFORM set_config('app.current_workspace_id', v_ws.ws_id::text, true);
                IF v_ws.tm_last_active_at IS NULL
                   OR v_ws.tm_last_active_at < now() - interval '60 seconds' THEN
                    UPDATE team_members tm
                       SET last_active_at = now()
                     WHERE tm.id = (SELECT t2.id FROM team_members t2 WHERE t2.id = v_ws.tm_id
                                     FOR NO KEY UPDATE SKIP LOCKED);
                END IF;
            END IF;
        END LOOP;
    END IF;

    RETURN NEXT;
END
$$;

-- The user's active memberships in live workspaces, by name: workspace
-- switcher and the redirect after sign-in.
CREATE FUNCTION auth_user_workspaces(p_user_id uuid)
RETURNS TABLE(slug text, name text, role text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT w.slug::text, w.name::text, tm.role::text
      FROM team_members tm
      JOIN workspaces w ON w.id = tm.workspace_id
     WHERE tm.user_id = p_user_id
       AND tm.status = 'active'
       AND tm.deleted_at IS NULL
       AND w.deleted_at IS NULL
     ORDER BY w.name, w.slug
$$;

-- The invitation page, before the visitor has a session in that workspace:
-- the membership row whose invitation_token is p_token_hash (SHA-256 hex of
-- the token in the link), whatever its state; the caller decides between
-- "unknown" (no row), "used" (status <> 'pending'), "revoked" (deleted) and
-- "expired" (expires_at <= now()). invited_by_name falls back to the
-- inviter's email. Zero rows when the workspace has been deleted.
CREATE FUNCTION invitation_lookup(p_token_hash text)
RETURNS TABLE(member_id uuid, workspace_id uuid, workspace_name text,
              workspace_slug text, role text, status text,
              expires_at timestamptz, invited_by_name text,
              invitation_email text, user_id uuid,
              user_has_password boolean, deleted boolean)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT tm.id, tm.workspace_id, w.name::text, w.slug::text,
           tm.role::text, tm.status::text, tm.invitation_expires_at,
           coalesce(nullif(inviter.full_name, ''), inviter.email)::text,
           coalesce(tm.invitation_email, invitee.email)::text,
           tm.user_id,
           invitee.password_hash IS NOT NULL,
           tm.deleted_at IS NOT NULL
      FROM team_members tm
      JOIN workspaces w ON w.id = tm.workspace_id AND w.deleted_at IS NULL
      JOIN users invitee ON invitee.id = tm.user_id
      LEFT JOIN users inviter ON inviter.id = tm.invited_by
     WHERE tm.invitation_token = p_token_hash
$$;

-- Stripe webhooks: the workspace of a Stripe customer id (NULL if none).
CREATE FUNCTION billing_workspace_for_customer(p_customer text)
RETURNS uuid
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT bc.workspace_id
      FROM billing_config bc
     WHERE bc.stripe_customer_id = p_customer
$$;

REVOKE EXECUTE ON FUNCTION auth_login_lookup(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth_session_context(text, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth_user_workspaces(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION invitation_lookup(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION billing_workspace_for_customer(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION auth_login_lookup(text) TO settings_app;
GRANT EXECUTE ON FUNCTION auth_session_context(text, text, integer) TO settings_app;
GRANT EXECUTE ON FUNCTION auth_user_workspaces(uuid) TO settings_app;
GRANT EXECUTE ON FUNCTION invitation_lookup(text) TO settings_app;
GRANT EXECUTE ON FUNCTION billing_workspace_for_customer(text) TO settings_app;
