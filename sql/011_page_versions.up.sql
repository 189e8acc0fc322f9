-- 011_page_versions: version numbers that let a worker reuse a page it has
-- already rendered (the page cache in cgi/app.c) without ever serving one
-- that is out of date.
--
--   workspaces.team_version  goes up, in the same transaction, with every
--                            change to what the workspace's team page shows:
--                            its memberships and invitations, the names and
--                            emails of the people in them (and of inviters),
--                            its seat limit.
--   users.ctx_version        goes up with every change to what surrounds any
--                            page of that person: their name and email, their
--                            memberships (the workspace switcher), the name,
--                            slug or deletion of a workspace they belong to.
--
-- A cached page is served only when auth_page_check() returns the same pair
-- of versions (and the same valid session) as when it was rendered. Since
-- the versions are ordinary row values written by the changing transaction,
-- a reader never sees a change without its bump.
--
-- Not versioned: team_members.last_active_at, which auth_session_context()
-- stamps at most once a minute. The cache keys pages by the minute instead,
-- so relative times ("5 minutes ago", "expires in 2 days") are at most a
-- minute old, as they are anyway.
--
-- Locks: a team change already holds its workspace row (FOR NO KEY UPDATE)
-- before it touches team_members, and so does accepting an invitation; the
-- bump updates that same row. Billing changes to the seat limit take the
-- workspace row before billing_config (cgi/billing.c), the order the
-- membership counters use.

ALTER TABLE workspaces ADD COLUMN team_version bigint NOT NULL DEFAULT 0;
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
