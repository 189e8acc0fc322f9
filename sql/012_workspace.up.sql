-- 012_workspace: the General page (rename, leave, transfer, delete and
-- restore), API keys and the audit log page.
--
-- Deleting a workspace is a soft delete: workspaces.deleted_at is set and
-- the workspace leaves every switcher and answers 404 everywhere (the
-- session lookup of 006 already skips deleted workspaces). In the same
-- transaction its integrations are switched off (is_enabled = false, so
-- every sender that honours is_enabled stops at once) and marked
-- suspended_at, so that a restore switches exactly those back on; a
-- trigger keeps any integration of a deleted workspace switched off
-- whoever writes it. For 30 days an active owner can restore it
-- (workspace_restore); after that the settings-purge command deletes its
-- rows for good in batches (workspace_purge_step) and leaves one line in
-- workspace_purges.

-- ---------------------------------------------------------------------
-- Workspaces and integrations
-- ---------------------------------------------------------------------
ALTER TABLE workspaces ADD COLUMN deleted_by UUID REFERENCES users(id) ON DELETE SET NULL;
COMMENT ON COLUMN workspaces.deleted_by IS 'The owner who deleted the workspace (NULL while live)';

CREATE INDEX idx_workspaces_deleted_at ON workspaces (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE integrations_config ADD COLUMN suspended_at TIMESTAMPTZ;
COMMENT ON COLUMN integrations_config.suspended_at IS
    'Switched off because its workspace was deleted; a restore switches it back on';

CREATE FUNCTION integrations_config_deleted_workspace_off() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    IF NEW.is_enabled AND EXISTS (SELECT 1 FROM workspaces w
                                   WHERE w.id = NEW.workspace_id AND w.deleted_at IS NOT NULL) THEN
        -- Off, and not marked suspended_at: a restore switches on only what
        -- the deletion switched off.
        NEW.is_enabled := false;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER integrations_config_deleted_workspace
BEFORE INSERT OR UPDATE OF is_enabled ON integrations_config
FOR EACH ROW
WHEN (NEW.is_enabled)
EXECUTE FUNCTION integrations_config_deleted_workspace_off();

-- ---------------------------------------------------------------------
-- API keys: an optional expiry and who revoked a key. Active (what
-- api_keys_current counts and the plan's limit caps) stays
-- revoked_at IS NULL; an expired key no longer verifies.
-- ---------------------------------------------------------------------
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN revoked_by UUID REFERENCES users(id) ON DELETE SET NULL;
COMMENT ON COLUMN api_keys.expires_at IS 'NULL = never expires; past it the key no longer verifies';
COMMENT ON COLUMN api_keys.revoked_by IS 'Who revoked the key';

CREATE INDEX idx_api_keys_workspace_created ON api_keys (workspace_id, created_at DESC, id DESC);

-- The platform's ingestion: the workspace of a valid key (NULL when the key
-- is unknown, revoked, expired or of a deleted workspace). Stamps
-- last_used_at at most once a minute; a row another transaction holds is
-- skipped, never waited for.
CREATE FUNCTION api_key_verify(p_key text) RETURNS uuid
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_key record;
BEGIN
    IF p_key IS NULL OR length(p_key) NOT BETWEEN 16 AND 256 THEN
        RETURN NULL;
    END IF;
    SELECT k.id, k.workspace_id, k.last_used_at INTO v_key
      FROM api_keys k
      JOIN workspaces w ON w.id = k.workspace_id AND w.deleted_at IS NULL
     WHERE k.key_hash = encode(sha256(convert_to(p_key, 'UTF8')), 'hex')
       AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > now());
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_key.last_used_at IS NULL OR v_key.last_used_at < now() - interval '60 seconds' THEN
        UPDATE api_keys k
           SET last_used_at = now()
         WHERE k.id = (SELECT k2.id FROM api_keys k2 WHERE k2.id = v_key.id
                        FOR NO KEY UPDATE SKIP LOCKED);
    END IF;
    RETURN v_key.workspace_id;
END
$$;

-- ---------------------------------------------------------------------
-- Audit log page: newest first with keyset paging, per action and per
-- person.
-- ---------------------------------------------------------------------
CREATE INDEX idx_audit_logs_workspace_created_id
    ON audit_logs (workspace_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_workspace_action
    ON audit_logs (workspace_id, action, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_workspace_user
    ON audit_logs (workspace_id, user_id, created_at DESC, id DESC);

-- ---------------------------------------------------------------------
-- Deleted workspaces: the list an owner may restore, restore, purge.
-- ---------------------------------------------------------------------

-- The workspaces p_user_id may restore: deleted less than 30 days ago, in
-- which they are an active owner.
CREATE FUNCTION workspace_deleted_list(p_user_id uuid)
RETURNS TABLE(slug text, name text, deleted_at timestamptz, purge_at timestamptz)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT w.slug::text, w.name::text, w.deleted_at, w.deleted_at + interval '30 days'
      FROM team_members tm
      JOIN workspaces w ON w.id = tm.workspace_id
     WHERE tm.user_id = p_user_id
       AND tm.role = 'owner'
       AND tm.status = 'active'
       AND tm.deleted_at IS NULL
       AND w.deleted_at IS NOT NULL
       AND w.deleted_at > now() - interval '30 days'
     ORDER BY w.deleted_at DESC, w.slug
$$;

-- Restore the deleted workspace p_slug for p_user_id. outcome:
--   restored   live again: its integrations switched off by the deletion are
--              on again, the workspace.restored audit row is written
--   unknown    no deleted workspace of that slug of which they are an
--              active owner
--   expired    deleted 30 days ago or more
-- Billing stays cancelled: the owner chooses a plan again.
CREATE FUNCTION workspace_restore(p_user_id uuid, p_slug text, p_ip inet, p_user_agent text)
RETURNS TABLE(outcome text, workspace_id uuid)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_ws record;
BEGIN
    SELECT w.id, w.deleted_at INTO v_ws
      FROM workspaces w
     WHERE w.slug = p_slug AND w.deleted_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM team_members tm
                    WHERE tm.workspace_id = w.id AND tm.user_id = p_user_id
                      AND tm.role = 'owner' AND tm.status = 'active' AND tm.deleted_at IS NULL)
       FOR NO KEY UPDATE OF w;
    IF NOT FOUND THEN
        outcome := 'unknown';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_ws.deleted_at <= now() - interval '30 days' THEN
        outcome := 'expired';
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE workspaces w SET deleted_at = NULL, deleted_by = NULL WHERE w.id = v_ws.id;
    UPDATE integrations_config i SET is_enabled = true, suspended_at = NULL
     WHERE i.workspace_id = v_ws.id AND i.suspended_at IS NOT NULL;
    INSERT INTO audit_logs (workspace_id, user_id, action, resource_type,
                            resource_id, changes, ip_address, user_agent)
    VALUES (v_ws.id, p_user_id, 'workspace.restored', 'workspace', v_ws.id,
            jsonb_build_object('old', jsonb_build_object('deleted_at', v_ws.deleted_at),
                               'new', jsonb_build_object('deleted_at', NULL)),
            p_ip, p_user_agent);
    outcome := 'restored';
    workspace_id := v_ws.id;
    RETURN NEXT;
END
$$;

-- One line per workspace deleted for good: the summary audit line (the
-- workspace's own audit_logs rows go with it). purged_at is NULL while the
-- purge is under way.
CREATE TABLE workspace_purges (
    id             BIGSERIAL PRIMARY KEY,
    workspace_id   UUID NOT NULL,
    slug           VARCHAR(63) NOT NULL,
    name           VARCHAR(256) NOT NULL,
    deleted_at     TIMESTAMPTZ NOT NULL,
    deleted_by     UUID,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    purged_at      TIMESTAMPTZ,
    rows_deleted   BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workspace_purges_running_key ON workspace_purges (workspace_id)
    WHERE purged_at IS NULL;
-- Not for settings_app (no grants); row-level security as on every table
-- with a workspace_id, should a grant ever be given.
ALTER TABLE workspace_purges ENABLE ROW LEVEL SECURITY;
CREATE POLICY workspace_purges_isolation ON workspace_purges
    FOR ALL TO settings_app
    USING (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = nullif(current_setting('app.current_workspace_id', true), '')::uuid);
COMMENT ON TABLE workspace_purges IS
    'Summary audit line of each workspace deleted for good by settings-purge (not readable by settings_app)';

-- One batch of settings-purge, in its own transaction: for the oldest
-- workspace deleted 30 days ago or more, delete at most p_batch rows of one
-- of its tables; when none are left, the workspace row itself (its slug
-- becomes free) and finished = true. No row when nothing is due. Run as
-- the owning role (not granted to settings_app), again and again until it
-- returns no row.
CREATE FUNCTION workspace_purge_step(p_batch integer)
RETURNS TABLE(slug text, rows_deleted bigint, finished boolean)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_ws    record;
    v_n     bigint;
    v_table text;
BEGIN
    SELECT w.id, w.slug, w.name, w.deleted_at, w.deleted_by INTO v_ws
      FROM workspaces w
     WHERE w.deleted_at IS NOT NULL AND w.deleted_at <= now() - interval '30 days'
     ORDER BY w.deleted_at, w.id
     LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO workspace_purges (workspace_id, slug, name, deleted_at, deleted_by)
    VALUES (v_ws.id, v_ws.slug, v_ws.name, v_ws.deleted_at, v_ws.deleted_by)
    ON CONFLICT (workspace_id) WHERE purged_at IS NULL DO NOTHING;
    slug := v_ws.slug;
    -- Children first; what is not listed goes with the workspace (ON DELETE CASCADE).
    FOREACH v_table IN ARRAY ARRAY['audit_logs', 'api_keys', 'integrations_config',
                                   'usage_history', 'agents', 'workspace_members',
                                   'invitation_tokens_spent', 'team_members']
    LOOP
        IF to_regclass(v_table) IS NULL THEN
            CONTINUE;
        END IF;
        EXECUTE format('DELETE FROM %I WHERE ctid = ANY (ARRAY(SELECT ctid FROM %I '
                       'WHERE workspace_id = $1 LIMIT $2))', v_table, v_table)
          USING v_ws.id, p_batch;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN
            UPDATE workspace_purges p SET rows_deleted = p.rows_deleted + v_n
             WHERE p.workspace_id = v_ws.id AND p.purged_at IS NULL;
            rows_deleted := v_n;
            finished := false;
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
    DELETE FROM workspaces w WHERE w.id = v_ws.id;
    UPDATE workspace_purges p SET rows_deleted = p.rows_deleted + 1, purged_at = now()
     WHERE p.workspace_id = v_ws.id AND p.purged_at IS NULL;
    rows_deleted := 1;
    finished := true;
    RETURN NEXT;
END
$$;

REVOKE EXECUTE ON FUNCTION integrations_config_deleted_workspace_off() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api_key_verify(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_deleted_list(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_restore(uuid, text, inet, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_purge_step(integer) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION api_key_verify(text) TO settings_app;
GRANT EXECUTE ON FUNCTION workspace_deleted_list(uuid) TO settings_app;
GRANT EXECUTE ON FUNCTION workspace_restore(uuid, text, inet, text) TO settings_app;
-- Revoking an API key is an UPDATE (revoked_at, revoked_by): the grant of 006 covers it.
