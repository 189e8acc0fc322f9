-- 010_invite: accepting an invitation (/invite/accept).
--
-- The invitee is not a member of the workspace yet, so row-level security
-- hides its rows from settings_app: accepting goes through one narrow
-- SECURITY DEFINER function, invitation_accept(), which locks the
-- invitation row (FOR UPDATE) so that simultaneous accepts of one token
-- yield exactly one active membership, and writes the audit row in the same
-- transaction.
--
-- A token is single use: accepting clears team_members.invitation_token.
-- So that a used link answers "gone" (410) rather than "unknown" (404),
-- every token hash that leaves its row (accepted, revoked with the token
-- cleared, replaced by a resend) is remembered in invitation_tokens_spent
-- by a trigger, whoever made the change.

-- ---------------------------------------------------------------------
-- invitation_tokens_spent: hashes of links that no longer work, and why.
-- Not readable by settings_app (no grants); see invitation_token_spent().
-- ---------------------------------------------------------------------
CREATE TABLE invitation_tokens_spent (
    token_hash      VARCHAR(128) PRIMARY KEY,
    workspace_id    UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    team_member_id  UUID NOT NULL REFERENCES team_members(id) ON DELETE CASCADE,
    reason          VARCHAR(16) NOT NULL,
    spent_at        TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT invitation_tokens_spent_reason_check
        CHECK (reason IN ('accepted', 'revoked', 'replaced'))
);

CREATE INDEX idx_invitation_tokens_spent_member
    ON invitation_tokens_spent (team_member_id);

COMMENT ON TABLE invitation_tokens_spent IS
    'SHA-256 hex of invitation tokens that were accepted, revoked or replaced: their links answer 410';
COMMENT ON COLUMN invitation_tokens_spent.reason IS 'accepted, revoked (row deleted) or replaced (resend)';

-- AFTER UPDATE trigger on team_members: the old token hash, when it changes.
CREATE FUNCTION invitation_token_spent_record() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO invitation_tokens_spent (token_hash, workspace_id, team_member_id, reason)
    VALUES (OLD.invitation_token, NEW.workspace_id, NEW.id,
            CASE WHEN NEW.deleted_at IS NOT NULL THEN 'revoked'
                 WHEN NEW.status <> 'pending' THEN 'accepted'
                 ELSE 'replaced' END)
    ON CONFLICT (token_hash) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER team_members_invitation_token_spent
AFTER UPDATE OF invitation_token ON team_members
FOR EACH ROW
WHEN (OLD.invitation_token IS NOT NULL
      AND OLD.invitation_token IS DISTINCT FROM NEW.invitation_token)
EXECUTE FUNCTION invitation_token_spent_record();

-- Why a token that matches no invitation row stopped working: 'accepted',
-- 'revoked' or 'replaced'; NULL when it was never issued (or its workspace
-- is gone).
CREATE FUNCTION invitation_token_spent(p_token_hash text)
RETURNS text
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT s.reason::text
      FROM invitation_tokens_spent s
      JOIN workspaces w ON w.id = s.workspace_id AND w.deleted_at IS NULL
     WHERE s.token_hash = p_token_hash
$$;

-- Accept the invitation whose token hash is p_token_hash.
--
-- p_session_user_id: the signed-in user (NULL when nobody is signed in).
-- p_full_name, p_password_hash: for an invitee without a password yet (the
-- bcrypt hash is made by the application); NULL otherwise.
--
-- outcome is one of
--   accepted            the membership is now active (the other columns set)
--   unknown             no such token
--   used                already accepted (also: lost a race to another accept)
--   revoked             the invitation was cancelled
--   replaced            a newer link was sent (resend)
--   expired             past invitation_expires_at
--   password_required   the invitee has no password and none was given
--   sign_in_required    the invitee has a password and nobody is signed in
--   wrong_user          signed in as someone other than the invitee
--   full                the workspace has no seat left for another active member
-- The workspace and then the row are locked before anything is decided, so
-- of several simultaneous calls with one token exactly one answers
-- 'accepted' and the others 'used'.
-- On 'accepted' it also writes the team_member.invitation_accepted audit row.
CREATE FUNCTION invitation_accept(p_token_hash text, p_session_user_id uuid,
                                  p_full_name text, p_password_hash text,
                                  p_ip inet, p_user_agent text)
RETURNS TABLE(outcome text, member_id uuid, user_id uuid, workspace_id uuid,
              workspace_slug text, workspace_name text, role text)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_tm      record;
    v_ws_id   uuid;
    v_limit   integer;
    v_active  integer;
    v_created boolean := false;
BEGIN
    IF p_token_hash IS NULL OR p_token_hash !~ '^[0-9a-f]{64}$' THEN
        outcome := 'unknown';
        RETURN NEXT;
        RETURN;
    END IF;

    -- Team changes of one workspace run one after the other behind a lock
    -- on its workspaces row (cgi/team.c, "team_lock"); take it first too,
    -- in the same order (workspace, then member row), so that the seat
    -- check below sees the outcome of any change that raced this one.
    SELECT tm.workspace_id INTO v_ws_id
      FROM team_members tm
     WHERE tm.invitation_token = p_token_hash;
    IF FOUND THEN
        PERFORM 1 FROM workspaces w WHERE w.id = v_ws_id FOR NO KEY UPDATE;
    END IF;

    -- Lock the invitation. A concurrent accept that committed first has
    -- cleared the token, so this finds nothing once it gets the lock.
    SELECT tm.id, tm.workspace_id, tm.user_id, tm.role, tm.status,
           tm.deleted_at, tm.invitation_expires_at, tm.invitation_email,
           w.slug AS ws_slug, w.name AS ws_name,
           u.email AS user_email, u.password_hash IS NOT NULL AS has_password
      INTO v_tm
      FROM team_members tm
      JOIN workspaces w ON w.id = tm.workspace_id AND w.deleted_at IS NULL
      JOIN users u ON u.id = tm.user_id
     WHERE tm.invitation_token = p_token_hash
       FOR UPDATE OF tm;
    IF NOT FOUND THEN
        outcome := coalesce(invitation_token_spent(p_token_hash), 'unknown');
        IF outcome = 'accepted' THEN
            outcome := 'used';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    IF v_tm.deleted_at IS NOT NULL THEN
        outcome := 'revoked';
    ELSIF v_tm.status <> 'pending' THEN
        outcome := 'used';
    ELSIF v_tm.invitation_expires_at IS NULL OR v_tm.invitation_expires_at <= now() THEN
        outcome := 'expired';
    ELSIF v_tm.has_password THEN
        IF p_session_user_id IS NULL THEN
            outcome := 'sign_in_required';
        ELSIF p_session_user_id <> v_tm.user_id THEN
            outcome := 'wrong_user';
        END IF;
    ELSIF p_password_hash IS NULL OR p_password_hash !~ '^\$2[aby]\$[0-9]{2}\$.{53}$'
          OR p_full_name IS NULL OR length(p_full_name) NOT BETWEEN 1 AND 256 THEN
        outcome := 'password_required';
    END IF;
    IF outcome IS NOT NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;

    -- Seats: pending invitations already count against the limit, so this
    -- only refuses when the plan shrank below the active members meanwhile.
    SELECT bc.team_members_limit INTO v_limit
      FROM billing_config bc
     WHERE bc.workspace_id = v_tm.workspace_id;
    IF v_limit IS NOT NULL THEN
        SELECT count(*) INTO v_active
          FROM team_members tm
         WHERE tm.workspace_id = v_tm.workspace_id
           AND tm.status = 'active'
           AND tm.deleted_at IS NULL;
        IF v_active >= v_limit THEN
            outcome := 'full';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    IF NOT v_tm.has_password THEN
        UPDATE users u
           SET full_name = p_full_name,
               password_hash = p_password_hash,
               is_verified = true
         WHERE u.id = v_tm.user_id
           AND u.password_hash IS NULL;
        IF NOT FOUND THEN
            -- The account got a password meanwhile (another invitation).
            outcome := 'sign_in_required';
            RETURN NEXT;
            RETURN;
        END IF;
        v_created := true;
    END IF;

    UPDATE team_members tm
       SET status = 'active',
           accepted_at = now(),
           invitation_token = NULL,
           updated_by = v_tm.user_id
     WHERE tm.id = v_tm.id;

    INSERT INTO audit_logs (workspace_id, user_id, action, resource_type,
                            resource_id, changes, ip_address, user_agent)
    VALUES (v_tm.workspace_id, v_tm.user_id, 'team_member.invitation_accepted',
            'team_member', v_tm.id,
            jsonb_build_object('old_status', v_tm.status, 'new_status', 'active',
                               'role', v_tm.role,
                               'email', coalesce(v_tm.invitation_email, v_tm.user_email),
                               'account_created', v_created),
            p_ip, p_user_agent);

    outcome        := 'accepted';
    member_id      := v_tm.id;
    user_id        := v_tm.user_id;
    workspace_id   := v_tm.workspace_id;
    workspace_slug := v_tm.ws_slug;
    workspace_name := v_tm.ws_name;
    role           := v_tm.role;
    RETURN NEXT;
END
$$;

REVOKE EXECUTE ON FUNCTION invitation_token_spent_record() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION invitation_token_spent(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION invitation_accept(text, uuid, text, text, inet, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION invitation_token_spent(text) TO settings_app;
GRANT EXECUTE ON FUNCTION invitation_accept(text, uuid, text, text, inet, text) TO settings_app;
