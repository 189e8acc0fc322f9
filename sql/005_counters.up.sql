-- 005_counters: billing_config.team_members_current and api_keys_current
-- always equal the real counts:
--   team_members_current = team_members with status = 'active' AND
--                          deleted_at IS NULL
--   api_keys_current     = api_keys with revoked_at IS NULL
-- They are recomputed (never incremented) in the same transaction as any
-- change that can move them, and recomputed whenever a billing_config row is
-- inserted or someone writes those two columns, so a stale or forged value
-- cannot be stored.
--
-- The functions are SECURITY DEFINER (owner: the migration role, which is
-- not subject to row-level security) so that they count every row of the
-- workspace whatever the caller's RLS context is.
--
-- Concurrency: billing_refresh_usage_counts() locks the workspace's
-- billing_config row before counting; each statement of a PL/pgSQL function
-- takes a fresh snapshot under READ COMMITTED, so the count runs after any
-- concurrent transaction that held the lock has committed and includes its
-- rows. Two members added at the same time yield the right total.

CREATE FUNCTION billing_refresh_usage_counts(p_workspace_id uuid) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_members integer;
    v_keys    integer;
BEGIN
    PERFORM 1 FROM billing_config bc
     WHERE bc.workspace_id = p_workspace_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    SELECT count(*) INTO v_members
      FROM team_members tm
     WHERE tm.workspace_id = p_workspace_id
       AND tm.status = 'active'
       AND tm.deleted_at IS NULL;

    SELECT count(*) INTO v_keys
      FROM api_keys k
     WHERE k.workspace_id = p_workspace_id
       AND k.revoked_at IS NULL;

    UPDATE billing_config bc
       SET team_members_current = v_members,
           api_keys_current = v_keys
     WHERE bc.workspace_id = p_workspace_id
       AND (bc.team_members_current, bc.api_keys_current)
           IS DISTINCT FROM (v_members, v_keys);
END
$$;

COMMENT ON FUNCTION billing_refresh_usage_counts(uuid) IS
    'Recounts active team members and active API keys into the workspace''s billing_config row';

-- AFTER ROW trigger on team_members and api_keys.
CREATE FUNCTION billing_usage_counts_trigger() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM billing_refresh_usage_counts(OLD.workspace_id);
    END IF;
    IF TG_OP = 'INSERT'
       OR (TG_OP = 'UPDATE' AND NEW.workspace_id IS DISTINCT FROM OLD.workspace_id) THEN
        PERFORM billing_refresh_usage_counts(NEW.workspace_id);
    END IF;
    RETURN NULL;
END
$$;

-- BEFORE ROW trigger on billing_config: the stored counts are always the
-- real ones, whatever the statement tried to write. Runs after the row is
-- locked, so its fresh-snapshot count is race-free as well.
CREATE FUNCTION billing_config_usage_counts_fill() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    SELECT count(*) INTO NEW.team_members_current
      FROM team_members tm
     WHERE tm.workspace_id = NEW.workspace_id
       AND tm.status = 'active'
       AND tm.deleted_at IS NULL;

    SELECT count(*) INTO NEW.api_keys_current
      FROM api_keys k
     WHERE k.workspace_id = NEW.workspace_id
       AND k.revoked_at IS NULL;

    RETURN NEW;
END
$$;

REVOKE EXECUTE ON FUNCTION billing_refresh_usage_counts(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION billing_usage_counts_trigger() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION billing_config_usage_counts_fill() FROM PUBLIC;

CREATE TRIGGER team_members_billing_counts_insert_delete
AFTER INSERT OR DELETE ON team_members
FOR EACH ROW
EXECUTE FUNCTION billing_usage_counts_trigger();

CREATE TRIGGER team_members_billing_counts_update
AFTER UPDATE ON team_members
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status
      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
      OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
EXECUTE FUNCTION billing_usage_counts_trigger();

CREATE TRIGGER api_keys_billing_counts_insert_delete
AFTER INSERT OR DELETE ON api_keys
FOR EACH ROW
EXECUTE FUNCTION billing_usage_counts_trigger();

CREATE TRIGGER api_keys_billing_counts_update
AFTER UPDATE ON api_keys
FOR EACH ROW
WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
      OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id)
EXECUTE FUNCTION billing_usage_counts_trigger();

CREATE TRIGGER billing_config_usage_counts
BEFORE INSERT OR UPDATE OF team_members_current, api_keys_current ON billing_config
FOR EACH ROW
EXECUTE FUNCTION billing_config_usage_counts_fill();

-- Bring rows that exist already in line.
UPDATE billing_config bc
   SET team_members_current = bc.team_members_current,
       api_keys_current = bc.api_keys_current;
