-- 017_workspace_versions: a version number per workspace that moves with
-- every committed change to what the workspace's pages show, so that a
-- worker may keep a page's data for a workspace and reuse it for every
-- member who asks, for as long as the version has not moved.
--
-- * workspace_versions holds one number per workspace. Each transaction
--   that changed what the team, billing or integrations page reads gives
--   each workspace it touched a new number from workspace_version_seq, at
--   its commit: a reader whose snapshot sees a number sees every change
--   committed before it. The sequence never restarts (a TRUNCATE ...
--   RESTART IDENTITY of the tables does not reset it), so a number once
--   handed out never comes back for other data.
--
-- * The numbers move at commit, not at the change: a deferred constraint
--   trigger does it, after every other statement of the transaction, so
--   the transaction takes these row locks last, all at once, in the order
--   of the workspace ids. Two transactions never hold one of them while
--   waiting for another lock, so they cannot deadlock over them.
--
-- * Statement triggers (transition tables) collect the workspaces a
--   statement touched into the transaction-local setting
--   app.ws_changed; the deferred trigger is queued by the first statement
--   of a transaction that changes anything (WHEN the list is still empty)
--   and reads the whole list when it fires.
--
-- What moves a workspace's number: its team_members, billing_config and
-- integrations_config rows; its own row (name, slug, deletion); the name
-- or email of a person who is or was a member or an inviter there; and
-- any change to plan_catalog (every workspace).
--
-- auth_session() returns the workspace's number with the session check.

CREATE SEQUENCE workspace_version_seq;

CREATE TABLE workspace_versions (
    workspace_id UUID PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    version      BIGINT NOT NULL DEFAULT nextval('workspace_version_seq')
);
COMMENT ON TABLE workspace_versions IS
    'A number that moves at the commit of every change to what the workspace''s pages show';
INSERT INTO workspace_versions (workspace_id) SELECT id FROM workspaces ORDER BY id;

-- Read by auth_session() only (SECURITY DEFINER); the application role has
-- no grant. Row-level security as on every workspace table all the same.
ALTER TABLE workspace_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY workspace_versions_isolation ON workspace_versions
    USING (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid))
    WITH CHECK (workspace_id = (SELECT nullif(current_setting('app.current_workspace_id', true), '')::uuid));

-- Add workspaces (a comma-separated list of ids, or '*' for all) to the
-- transaction's list.
CREATE FUNCTION ws_changed_add(p_ids text)
RETURNS void
    LANGUAGE sql
    VOLATILE
    SET search_path = public, pg_temp
AS $$
    SELECT set_config('app.ws_changed',
                      concat_ws(',', nullif(current_setting('app.ws_changed', true), ''), p_ids),
                      true)
     WHERE p_ids IS NOT NULL AND p_ids <> '';
$$;

-- Statement triggers: the workspaces the statement's rows belong to.
CREATE FUNCTION ws_changed_rows()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ws_changed_add((SELECT string_agg(DISTINCT workspace_id::text, ',') FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ws_changed_add((SELECT string_agg(DISTINCT w::text, ',')
                                  FROM (SELECT workspace_id FROM new_rows
                                        UNION SELECT workspace_id FROM old_rows) x(w)));
    ELSE
        PERFORM ws_changed_add((SELECT string_agg(DISTINCT workspace_id::text, ',') FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ws_changed_workspaces()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ws_changed_add((SELECT string_agg(DISTINCT id::text, ',') FROM new_rows));
    RETURN NULL;
END
$$;

-- A person's name or email: every workspace where they are (or were) a
-- member, or invited someone.
CREATE FUNCTION ws_changed_users()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ws_changed_add((
        SELECT string_agg(DISTINCT tm.workspace_id::text, ',')
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id
          JOIN team_members tm ON tm.user_id = n.id OR tm.invited_by = n.id
         WHERE n.email IS DISTINCT FROM o.email OR n.full_name IS DISTINCT FROM o.full_name));
    RETURN NULL;
END
$$;

CREATE FUNCTION ws_changed_all()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ws_changed_add('*');
    RETURN NULL;
END
$$;

-- At commit: a new number for every workspace on the list, the rows
-- locked in id order.
CREATE FUNCTION ws_versions_bump()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    l text := current_setting('app.ws_changed', true);
    ids uuid[];
BEGIN
    IF l IS NULL OR l = '' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('app.ws_changed', '', true);
    IF l = '*' OR l LIKE '*,%' OR l LIKE '%,*' OR l LIKE '%,*,%' THEN
        PERFORM 1 FROM workspace_versions ORDER BY workspace_id FOR NO KEY UPDATE;
        UPDATE workspace_versions SET version = nextval('workspace_version_seq');
    ELSE
        ids := string_to_array(l, ',')::uuid[];
        PERFORM 1 FROM workspace_versions WHERE workspace_id = ANY (ids)
          ORDER BY workspace_id FOR NO KEY UPDATE;
        UPDATE workspace_versions SET version = nextval('workspace_version_seq')
         WHERE workspace_id = ANY (ids);
    END IF;
    RETURN NULL;
END
$$;

-- A new workspace starts with a number of its own.
CREATE FUNCTION ws_versions_insert()
RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO workspace_versions (workspace_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER workspaces_version_row AFTER INSERT ON workspaces
    FOR EACH ROW EXECUTE FUNCTION ws_versions_insert();

-- The three tables of workspace rows: a statement trigger for each kind of
-- change (a trigger with transition tables has one event), and the
-- commit-time bump, queued once per transaction (by the rows of its first
-- changing statement: WHEN the list is still empty).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['team_members', 'billing_config', 'integrations_config'] LOOP
        EXECUTE format('CREATE TRIGGER %1$I AFTER INSERT ON %2$I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_rows()', t || '_ws_inserted', t);
        EXECUTE format('CREATE TRIGGER %1$I AFTER UPDATE ON %2$I REFERENCING NEW TABLE AS new_rows '
                       'OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_rows()',
                       t || '_ws_updated', t);
        EXECUTE format('CREATE TRIGGER %1$I AFTER DELETE ON %2$I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_rows()', t || '_ws_deleted', t);
        EXECUTE format('CREATE CONSTRAINT TRIGGER %1$I AFTER INSERT OR UPDATE OR DELETE ON %2$I '
                       'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                       'WHEN (coalesce(current_setting(''app.ws_changed'', true), '''') = '''') '
                       'EXECUTE FUNCTION ws_versions_bump()', t || '_ws_bump', t);
    END LOOP;
END
$$;

CREATE TRIGGER workspaces_ws_changed AFTER UPDATE ON workspaces
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_workspaces();
CREATE TRIGGER users_ws_changed AFTER UPDATE ON users
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_users();
CREATE TRIGGER plan_catalog_ws_changed AFTER INSERT OR UPDATE OR DELETE ON plan_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION ws_changed_all();

-- The commit-time bump of the other tables, as above.
CREATE CONSTRAINT TRIGGER workspaces_ws_bump AFTER UPDATE ON workspaces
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (coalesce(current_setting('app.ws_changed', true), '') = '')
    EXECUTE FUNCTION ws_versions_bump();
CREATE CONSTRAINT TRIGGER users_ws_bump AFTER UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.email IS DISTINCT FROM NEW.email OR OLD.full_name IS DISTINCT FROM NEW.full_name)
          AND coalesce(current_setting('app.ws_changed', true), '') = '')
    EXECUTE FUNCTION ws_versions_bump();
CREATE CONSTRAINT TRIGGER plan_catalog_ws_bump AFTER INSERT OR UPDATE OR DELETE ON plan_catalog
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (coalesce(current_setting('app.ws_changed', true), '') = '')
    EXECUTE FUNCTION ws_versions_bump();

REVOKE EXECUTE ON FUNCTION ws_changed_add(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_changed_rows() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_changed_workspaces() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_changed_users() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_changed_all() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_versions_bump() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ws_versions_insert() FROM PUBLIC;

-- ---------------------------------------------------------------------
-- The session check returns the workspace's number
-- ---------------------------------------------------------------------
DROP FUNCTION auth_session(text, text, integer);
CREATE FUNCTION auth_session(p_token_hash text, p_slug text, p_idle_seconds integer,
                             OUT session_id uuid, OUT user_id uuid, OUT user_email text,
                             OUT user_name text, OUT csrf_token text, OUT workspace_id uuid,
                             OUT workspace_name text, OUT workspace_slug text,
                             OUT member_id uuid, OUT member_role text, OUT workspaces text,
                             OUT stamp_due boolean, OUT workspace_version bigint)
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
               se.last_seen_at < now() - interval '60 seconds' OR coalesce(m.tm_due, false),
               (SELECT wv.version FROM workspace_versions wv WHERE wv.workspace_id = m.ws_id)
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
REVOKE EXECUTE ON FUNCTION auth_session(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session(text, text, integer) TO settings_app;
