-- 015_lean_requests: what every request costs in PostgreSQL.
--
-- * The per-worker page cache is gone (cgi/cache.c), and with it the
--   version numbers of 011_page_versions that it checked: their triggers
--   made every team change also update the workspace row and every
--   member's user row, in an order that could deadlock with a concurrent
--   rename. users.ctx_version goes; workspaces.team_version stays as an
--   inert column (a column dropped and added again would come back after
--   workspaces.deleted_by, so this migration could not be rolled back to
--   the same schema), and nothing writes it any more.
--
-- * The session check is one statement: auth_session(), a single RETURN
--   QUERY in plpgsql, planned once per connection (SECURITY DEFINER: it reads the person's
--   memberships in every workspace for the switcher, before any
--   row-level security context exists). It writes nothing: it says when
--   the activity stamps are due, and the application calls
--   auth_session_touch() for them, at most once a minute per session,
--   after the request's own transaction has ended (so a stamp never holds
--   a row lock while a request waits for another).
--
-- * Row-level security policies read the workspace setting once per
--   statement: the setting is an uncorrelated sub-select (an initplan)
--   instead of an expression evaluated for every row scanned.
--
-- * The team page finds a page of a section by an index-only scan (the
--   join time's columns are included in the index), then reads only the
--   rows it shows. The audit log loses an index that the generic plan of
--   its one statement could take in place of the right one.

-- ---------------------------------------------------------------------
-- The page versions of 011 (see its down script, which this follows)
-- ---------------------------------------------------------------------
DROP FUNCTION auth_page_check(text, text, integer);
DROP TRIGGER billing_config_versions_team ON billing_config;
DROP FUNCTION billing_config_bump_team_version();
DROP TRIGGER workspaces_versions_members ON workspaces;
DROP FUNCTION workspaces_bump_member_versions();
DROP TRIGGER users_versions_teams ON users;
DROP TRIGGER users_version_own ON users;
DROP FUNCTION users_bump_team_versions();
DROP FUNCTION users_bump_own_version();
DROP TRIGGER team_members_versions_update ON team_members;
DROP TRIGGER team_members_versions_insert_delete ON team_members;
DROP FUNCTION team_members_bump_versions();

DROP TRIGGER update_users_updated_at ON users;
CREATE TRIGGER update_users_updated_at
BEFORE UPDATE ON users
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER update_workspaces_updated_at ON workspaces;
CREATE TRIGGER update_workspaces_updated_at
BEFORE UPDATE ON workspaces
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE users DROP COLUMN ctx_version;
COMMENT ON COLUMN workspaces.team_version IS
    'Unused since 015_lean_requests (kept so that 015 rolls back exactly)';

-- ---------------------------------------------------------------------
-- The session check
-- ---------------------------------------------------------------------
DROP FUNCTION auth_session_context(text, text, integer);

-- Every request with a session cookie, in the request's transaction: the
-- session (absolute and idle expiry) and its person; with p_slug, the
-- live workspace of that slug when the person is an active member of it
-- (deleted workspace, removed or deactivated member: NULL workspace
-- columns, so the page answers 404), and the switcher's lines
-- ("slug<TAB>name<TAB>role", by name); app.current_workspace_id is set
-- to that workspace for the rest of the transaction ('' without one).
-- stamp_due: last_seen_at or the membership's last_active_at is more than
-- a minute old (auth_session_touch). No row for an unknown, expired or
-- idle session (the setting is then left as the transaction began: empty).
CREATE FUNCTION auth_session(p_token_hash text, p_slug text, p_idle_seconds integer,
                             OUT session_id uuid, OUT user_id uuid, OUT user_email text,
                             OUT user_name text, OUT csrf_token text, OUT workspace_id uuid,
                             OUT workspace_name text, OUT workspace_slug text,
                             OUT member_id uuid, OUT member_role text, OUT workspaces text,
                             OUT stamp_due boolean)
RETURNS SETOF record
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    -- One statement, planned once per connection (a LANGUAGE sql function
    -- that cannot be inlined, as no SECURITY DEFINER function can, would be
    -- planned again on every call).
    RETURN QUERY
        SELECT se.id, se.user_id, u.email::text, u.full_name::text, se.csrf_token,
               m.ws_id, m.ws_name, m.ws_slug, m.tm_id, m.tm_role, m.lines,
               se.last_seen_at < now() - interval '60 seconds' OR coalesce(m.tm_due, false)
          FROM sessions se
          JOIN users u ON u.id = se.user_id
         CROSS JOIN LATERAL (
               SELECT (array_agg(w.id) FILTER (WHERE w.slug = p_slug))[1] AS ws_id,
                      (array_agg(w.name::text) FILTER (WHERE w.slug = p_slug))[1] AS ws_name,
                      (array_agg(w.slug::text) FILTER (WHERE w.slug = p_slug))[1] AS ws_slug,
                      (array_agg(tm.id) FILTER (WHERE w.slug = p_slug))[1] AS tm_id,
                      (array_agg(tm.role::text) FILTER (WHERE w.slug = p_slug))[1] AS tm_role,
                      bool_or(tm.last_active_at IS NULL
                              OR tm.last_active_at < now() - interval '60 seconds')
                          FILTER (WHERE w.slug = p_slug) AS tm_due,
                      string_agg(w.slug || E'\t' || translate(w.name, E'\t\n\r', '   ') || E'\t'
                                 || tm.role, E'\n' ORDER BY w.name, w.slug) AS lines
                 FROM team_members tm
                 JOIN workspaces w ON w.id = tm.workspace_id
                WHERE p_slug IS NOT NULL
                  AND tm.user_id = se.user_id
                  AND tm.status = 'active'
                  AND tm.deleted_at IS NULL
                  AND w.deleted_at IS NULL) m
         WHERE length(p_token_hash) = 64
           AND se.token_hash = p_token_hash::char(64)
           AND se.expires_at > now()
           AND (p_idle_seconds IS NULL
                OR se.last_seen_at > now() - make_interval(secs => p_idle_seconds))
           -- With the valid session's row only: the context for row-level security.
           AND set_config('app.current_workspace_id', coalesce(m.ws_id::text, ''), true) IS NOT NULL;
END
$$;

-- The activity stamps auth_session() said were due: the session's
-- last_seen_at and, with p_member_id, that membership's last_active_at,
-- each only when more than a minute old. Best effort: a row another
-- transaction holds is skipped, never waited for.
CREATE FUNCTION auth_session_touch(p_session_id uuid, p_member_id uuid)
RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE sessions se
       SET last_seen_at = now()
     WHERE se.id = (SELECT s2.id FROM sessions s2
                     WHERE s2.id = p_session_id
                       AND s2.last_seen_at < now() - interval '60 seconds'
                       FOR NO KEY UPDATE SKIP LOCKED);
    IF p_member_id IS NOT NULL THEN
        UPDATE team_members tm
           SET last_active_at = now()
         WHERE tm.id = (SELECT t2.id FROM team_members t2
                         WHERE t2.id = p_member_id
                           AND t2.user_id = (SELECT s3.user_id FROM sessions s3
                                              WHERE s3.id = p_session_id)
                           AND t2.deleted_at IS NULL
                           AND (t2.last_active_at IS NULL
                                OR t2.last_active_at < now() - interval '60 seconds')
                           FOR NO KEY UPDATE SKIP LOCKED);
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION auth_session(text, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth_session_touch(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session(text, text, integer) TO settings_app;
GRANT EXECUTE ON FUNCTION auth_session_touch(uuid, uuid) TO settings_app;

-- ---------------------------------------------------------------------
-- Row-level security: the setting read once per statement
-- ---------------------------------------------------------------------
ALTER POLICY agents_isolation ON agents
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY alert_events_isolation ON alert_events
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY api_keys_isolation ON api_keys
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY audit_logs_isolation ON audit_logs
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY billing_config_isolation ON billing_config
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY integration_deliveries_isolation ON integration_deliveries
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY integration_delivery_attempts_isolation ON integration_delivery_attempts
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY integrations_config_isolation ON integrations_config
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY team_members_isolation ON team_members
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY usage_history_isolation ON usage_history
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY workspace_members_isolation ON workspace_members
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY workspace_purges_isolation ON workspace_purges
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));
ALTER POLICY workspaces_isolation ON workspaces
    USING (id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));

-- ---------------------------------------------------------------------
-- The team page: a page of a section by an index-only scan
-- ---------------------------------------------------------------------
-- The order and the page come off the index as before (007_team); with the
-- two columns of the join time included, the rows a deep page skips are
-- read from the index alone, not from the table.
CREATE INDEX idx_team_members_workspace_status_joined_ids
    ON team_members (workspace_id, status, (coalesce(accepted_at, created_at)), id)
    INCLUDE (accepted_at, created_at)
    WHERE deleted_at IS NULL;
COMMENT ON INDEX idx_team_members_workspace_status_joined_ids IS
    'Team page: one section of a workspace in join order, 50 at a time (index-only)';
DROP INDEX idx_team_members_workspace_status_joined;

-- ---------------------------------------------------------------------
-- The audit log: one index per way through it
-- ---------------------------------------------------------------------
-- idx_audit_logs_workspace_created_id (012) serves everything this one
-- did, and in the page's order; with both, a generic plan may take this
-- one and sort.
DROP INDEX idx_audit_logs_workspace_created;

