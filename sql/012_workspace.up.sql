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
-- (workspace_restore); after that workspace_purge() deletes its rows for
-- good and leaves one line in workspace_purges.

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

-- One line per workspace deleted for good (its own rows are gone).
CREATE TABLE workspace_purges (
    id             BIGSERIAL PRIMARY KEY,
    workspace_id   UUID NOT NULL,
    slug           VARCHAR(63) NOT NULL,
    name           VARCHAR(256) NOT NULL,
    deleted_at     TIMESTAMPTZ NOT NULL,
    deleted_by     UUID,
    purged_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    rows_deleted   BIGINT NOT NULL
);
COMMENT ON TABLE workspace_purges IS
    'Summary audit line of each workspace deleted for good by workspace_purge() (not readable by settings_app)';

-- Delete for good, in batches of at most p_batch rows per table and
-- statement, every workspace deleted 30 days ago or more; returns one row
-- per workspace purged. For settings-purge, run as the owning role (not
-- granted to settings_app). The slug becomes free again.
CREATE FUNCTION workspace_purge(p_batch integer DEFAULT 10000)
RETURNS TABLE(slug text, rows_deleted bigint)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_ws    record;
    v_total bigint;
    v_n     bigint;
    v_table text;
BEGIN
    FOR v_ws IN
        SELECT w.id, w.slug, w.name, w.deleted_at, w.deleted_by FROM workspaces w
         WHERE w.deleted_at IS NOT NULL AND w.deleted_at <= now() - interval '30 days'
         ORDER BY w.deleted_at
           FOR UPDATE SKIP LOCKED
    LOOP
        v_total := 0;
        FOREACH v_table IN ARRAY ARRAY['audit_logs', 'api_keys', 'integrations_config',
                                       'usage_history', 'agents', 'workspace_members',
                                       'billing_config', 'team_members']
        LOOP
            IF to_regclass(v_table) IS NULL THEN
                CONTINUE;
            END IF;
            LOOP
                EXECUTE format('DELETE FROM %I WHERE ctid = ANY (ARRAY(SELECT ctid FROM %I '
                               'WHERE workspace_id = $1 LIMIT $2))', v_table, v_table)
                  USING v_ws.id, p_batch;
                GET DIAGNOSTICS v_n = ROW_COUNT;
                v_total := v_total + v_n;
                EXIT WHEN v_n < p_batch;
            END LOOP;
        END LOOP;
        DELETE FROM workspaces w WHERE w.id = v_ws.id;
        v_total := v_total + 1;
        INSERT INTO workspace_purges (workspace_id, slug, name, deleted_at, deleted_by, rows_deleted)
        VALUES (v_ws.id, v_ws.slug, v_ws.name, v_ws.deleted_at, v_ws.deleted_by, v_total);
        slug := v_ws.slug;
        rows_deleted := v_total;
        RETURN NEXT;
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION integrations_config_deleted_workspace_off() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION api_key_verify(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_deleted_list(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_restore(uuid, text, inet, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION workspace_purge(integer) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION api_key_verify(text) TO settings_app;
GRANT EXECUTE ON FUNCTION workspace_deleted_list(uuid) TO settings_app;
GRANT EXECUTE ON FUNCTION workspace_restore(uuid, text, inet, text) TO settings_app;
-- Revoking an API key is an UPDATE (revoked_at, revoked_by): the grant of 006 covers it.
