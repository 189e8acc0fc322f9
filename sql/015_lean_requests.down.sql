-- 015_lean_requests (down): the schema as 014 left it: the team index of
-- 007, the policies' per-row setting, auth_session_context() of 006 and the
-- page versions of 011.

CREATE INDEX idx_audit_logs_workspace_created
    ON audit_logs (workspace_id, created_at DESC);

CREATE INDEX idx_team_members_workspace_status_joined
    ON team_members (workspace_id, status, (coalesce(accepted_at, created_at)), id)
    WHERE deleted_at IS NULL;
COMMENT ON INDEX idx_team_members_workspace_status_joined IS
    'Team page: one section of a workspace in join order, 50 at a time';
DROP INDEX idx_team_members_workspace_status_joined_ids;

ALTER POLICY agents_isolation ON agents
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY alert_events_isolation ON alert_events
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY api_keys_isolation ON api_keys
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY audit_logs_isolation ON audit_logs
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY billing_config_isolation ON billing_config
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY integration_deliveries_isolation ON integration_deliveries
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY integration_delivery_attempts_isolation ON integration_delivery_attempts
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY integrations_config_isolation ON integrations_config
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY team_members_isolation ON team_members
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY usage_history_isolation ON usage_history
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY workspace_members_isolation ON workspace_members
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY workspace_purges_isolation ON workspace_purges
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
ALTER POLICY workspaces_isolation ON workspaces
    USING (id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);

DROP FUNCTION auth_session_touch(uuid, uuid);
DROP FUNCTION auth_session(text, text, integer);

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

REVOKE EXECUTE ON FUNCTION auth_session_context(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_context(text, text, integer) TO settings_app;

ALTER TABLE users ADD COLUMN ctx_version bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN workspaces.team_version IS
    'Bumped with every change to what the team page shows (011_page_versions)';
COMMENT ON COLUMN users.ctx_version IS
    'Bumped with every change to the person''s name, email or memberships (011_page_versions)';

-- A version bump is not an edit of the row: updated_at keeps its meaning.
DROP TRIGGER update_workspaces_updated_at ON workspaces;
CREATE TRIGGER update_workspaces_updated_at
BEFORE UPDATE ON workspaces
FOR EACH ROW
WHEN (OLD.team_version = NEW.team_version)
EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER update_users_updated_at ON users;
CREATE TRIGGER update_users_updated_at
BEFORE UPDATE ON users
FOR EACH ROW
WHEN (OLD.ctx_version = NEW.ctx_version)
EXECUTE FUNCTION update_updated_at_column();

-- team_members: every change but an activity stamp moves the workspace's
-- team page; a change of status, role or membership moves the person's
-- switcher.
CREATE FUNCTION team_members_bump_versions() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    -- OLD is NULL on INSERT and NEW on DELETE; IN () counts a row once.
    UPDATE workspaces w SET team_version = w.team_version + 1
     WHERE w.id IN (OLD.workspace_id, NEW.workspace_id);
    IF TG_OP <> 'UPDATE'
       OR (OLD.user_id, OLD.workspace_id, OLD.status, OLD.role, OLD.deleted_at)
          IS DISTINCT FROM (NEW.user_id, NEW.workspace_id, NEW.status, NEW.role, NEW.deleted_at) THEN
        UPDATE users u SET ctx_version = u.ctx_version + 1
         WHERE u.id IN (OLD.user_id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER team_members_versions_insert_delete
AFTER INSERT OR DELETE ON team_members
FOR EACH ROW
EXECUTE FUNCTION team_members_bump_versions();

CREATE TRIGGER team_members_versions_update
AFTER UPDATE ON team_members
FOR EACH ROW
WHEN ((OLD.workspace_id, OLD.user_id, OLD.role, OLD.status, OLD.invitation_email,
       OLD.invitation_token, OLD.invitation_expires_at, OLD.invited_by,
       OLD.accepted_at, OLD.created_at, OLD.deleted_at)
      IS DISTINCT FROM
      (NEW.workspace_id, NEW.user_id, NEW.role, NEW.status, NEW.invitation_email,
       NEW.invitation_token, NEW.invitation_expires_at, NEW.invited_by,
       NEW.accepted_at, NEW.created_at, NEW.deleted_at))
EXECUTE FUNCTION team_members_bump_versions();

-- users: a new name or email shows on every team page the person is on
-- (as member or as inviter) and around all of their own pages.
CREATE FUNCTION users_bump_own_version() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.ctx_version := OLD.ctx_version + 1;
    RETURN NEW;
END
$$;

CREATE FUNCTION users_bump_team_versions() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE workspaces w
       SET team_version = w.team_version + 1
     WHERE w.id IN (SELECT tm.workspace_id FROM team_members tm
                     WHERE tm.user_id = NEW.id OR tm.invited_by = NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_version_own
BEFORE UPDATE OF email, full_name ON users
FOR EACH ROW
WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.full_name IS DISTINCT FROM NEW.full_name)
EXECUTE FUNCTION users_bump_own_version();

CREATE TRIGGER users_versions_teams
AFTER UPDATE OF email, full_name ON users
FOR EACH ROW
WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.full_name IS DISTINCT FROM NEW.full_name)
EXECUTE FUNCTION users_bump_team_versions();

-- workspaces: a new name or slug, or a deletion, shows in the switcher of
-- every member.
CREATE FUNCTION workspaces_bump_member_versions() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE users u
       SET ctx_version = u.ctx_version + 1
     WHERE u.id IN (SELECT tm.user_id FROM team_members tm
                     WHERE tm.workspace_id = NEW.id AND tm.deleted_at IS NULL);
    RETURN NULL;
END
$$;

CREATE TRIGGER workspaces_versions_members
AFTER UPDATE OF name, slug, deleted_at ON workspaces
FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug
      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION workspaces_bump_member_versions();

-- billing_config: the seat limit shows on the team page.
CREATE FUNCTION billing_config_bump_team_version() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE workspaces w SET team_version = w.team_version + 1 WHERE w.id = NEW.workspace_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER billing_config_versions_team
AFTER UPDATE OF team_members_limit, workspace_id ON billing_config
FOR EACH ROW
WHEN (OLD.team_members_limit IS DISTINCT FROM NEW.team_members_limit
      OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
EXECUTE FUNCTION billing_config_bump_team_version();

-- The page cache's check, run on its own (no transaction block) before a
-- cacheable GET: the session (as auth_session_context() validates it), the
-- person's ctx_version, and the live workspace named p_slug with its
-- team_version (NULLs when there is none). fresh is false when the session
-- is due for its activity stamp, which only auth_session_context() writes.
-- All NULL when the session is unknown or expired. Whether the person is a
-- member is not checked here: the cached page was rendered after
-- auth_session_context() found the membership, and any change to it moves
-- team_version.
CREATE FUNCTION auth_page_check(p_token_hash text, p_slug text, p_idle_seconds integer,
                                OUT session_id uuid, OUT user_id uuid, OUT ctx_version bigint,
                                OUT workspace_id uuid, OUT team_version bigint,
                                OUT fresh boolean)
    LANGUAGE plpgsql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    -- One row of OUT values, no result set: the cheapest call there is.
    SELECT se.id, se.user_id, u.ctx_version, w.id, w.team_version,
           se.last_seen_at >= now() - interval '60 seconds'
      INTO session_id, user_id, ctx_version, workspace_id, team_version, fresh
      FROM sessions se
      JOIN users u ON u.id = se.user_id
      LEFT JOIN workspaces w ON w.slug = p_slug AND w.deleted_at IS NULL
     WHERE se.token_hash = p_token_hash::char(64)
       AND se.expires_at > now()
       AND (p_idle_seconds IS NULL
            OR se.last_seen_at > now() - make_interval(secs => p_idle_seconds));
END
$$;

-- Trigger functions run whoever fires them; nobody calls them directly.
REVOKE EXECUTE ON FUNCTION team_members_bump_versions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION users_bump_own_version() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION users_bump_team_versions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspaces_bump_member_versions() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION billing_config_bump_team_version() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION auth_page_check(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_page_check(text, text, integer) TO settings_app;
