-- 017_workspace_versions (down)
DROP FUNCTION auth_session(text, text, integer);
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
REVOKE EXECUTE ON FUNCTION auth_session(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session(text, text, integer) TO settings_app;

DROP TRIGGER plan_catalog_ws_bump ON plan_catalog;
DROP TRIGGER users_ws_bump ON users;
DROP TRIGGER workspaces_ws_bump ON workspaces;
DROP TRIGGER integrations_config_ws_bump ON integrations_config;
DROP TRIGGER billing_config_ws_bump ON billing_config;
DROP TRIGGER team_members_ws_bump ON team_members;
DROP TRIGGER plan_catalog_ws_changed ON plan_catalog;
DROP TRIGGER users_ws_changed ON users;
DROP TRIGGER workspaces_ws_changed ON workspaces;
DROP TRIGGER integrations_config_ws_deleted ON integrations_config;
DROP TRIGGER integrations_config_ws_updated ON integrations_config;
DROP TRIGGER integrations_config_ws_inserted ON integrations_config;
DROP TRIGGER billing_config_ws_deleted ON billing_config;
DROP TRIGGER billing_config_ws_updated ON billing_config;
DROP TRIGGER billing_config_ws_inserted ON billing_config;
DROP TRIGGER team_members_ws_deleted ON team_members;
DROP TRIGGER team_members_ws_updated ON team_members;
DROP TRIGGER team_members_ws_inserted ON team_members;
DROP TRIGGER workspaces_version_row ON workspaces;
DROP FUNCTION ws_versions_insert();
DROP FUNCTION ws_versions_bump();
DROP FUNCTION ws_changed_all();
DROP FUNCTION ws_changed_users();
DROP FUNCTION ws_changed_workspaces();
DROP FUNCTION ws_changed_rows();
DROP FUNCTION ws_changed_add(text);
DROP TABLE workspace_versions;
DROP SEQUENCE workspace_version_seq;
