-- 019_cgi_session: the session check for a connection that runs it once.
--
-- A plain CGI process opens a new connection for its one request, and the
-- new backend's first call of auth_session() (017) loads PL/pgSQL and
-- compiles the function before planning its one statement, a plan that
-- PL/pgSQL keeps for the connection's next calls, which a CGI process never
-- makes. auth_session_once() is the same statement as a LANGUAGE sql
-- function, planned at each call, with nothing to load or compile: what the
-- executables call when they serve one request (cgi/db.c). FastCGI workers
-- and PgBouncer's long-lived server connections keep auth_session() and its
-- kept plan. The database tests hold the two statements to the same text
-- and the same answers.

CREATE FUNCTION auth_session_once(p_token_hash text, p_slug text, p_idle_seconds integer,
                                  OUT session_id uuid, OUT user_id uuid, OUT user_email text,
                                  OUT user_name text, OUT csrf_token text, OUT workspace_id uuid,
                                  OUT workspace_name text, OUT workspace_slug text,
                                  OUT member_id uuid, OUT member_role text, OUT workspaces text,
                                  OUT stamp_due boolean, OUT workspace_version bigint)
RETURNS SETOF record
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
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
$$;

REVOKE EXECUTE ON FUNCTION auth_session_once(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_once(text, text, integer) TO settings_app;
