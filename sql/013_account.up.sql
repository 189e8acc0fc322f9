-- 013_account: a person's own account: password reset tokens, the requests
-- that ask for them (rate limits), and the person's own audit stream.
--
-- None of this is workspace data, so there is no workspace to scope it by.
-- The reset tables are not granted to settings_app at all: the executables
-- reach them only through the narrow SECURITY DEFINER functions below, which
-- take a token hash or an email and never list anything. The personal audit
-- stream is append-only for settings_app (INSERT, SELECT; no UPDATE or
-- DELETE), and the application reads it by user id.

-- ---------------------------------------------------------------------
-- password_reset_tokens: one emailed link each. The link carries 32
-- random bytes (base64url); only their SHA-256 is stored. Valid until
-- expires_at (an hour), once: used_at is set when it is used; revoked_at
-- when a newer link pushed it out of the three live ones, or when the
-- password changed by other means.
-- ---------------------------------------------------------------------
CREATE TABLE password_reset_tokens (
    id          UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  CHAR(64) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    ip          INET,

    CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_reset_tokens_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$')
);

CREATE INDEX idx_password_reset_tokens_user ON password_reset_tokens (user_id, created_at DESC);

COMMENT ON TABLE password_reset_tokens IS
    'Emailed password reset links: SHA-256 of the token only; one hour, single use, at most 3 live per person';

-- ---------------------------------------------------------------------
-- password_reset_requests: every accepted request of /password/forgot,
-- whether or not the email has an account (so that the limits answer
-- alike for both), counted per email and per client address.
-- ---------------------------------------------------------------------
CREATE TABLE password_reset_requests (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    ip            INET,
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT password_reset_requests_email_lower_check CHECK (email = lower(email))
);

CREATE INDEX idx_password_reset_requests_email ON password_reset_requests (email, requested_at);
CREATE INDEX idx_password_reset_requests_ip ON password_reset_requests (ip, requested_at);

COMMENT ON TABLE password_reset_requests IS 'Password reset requests, for the 429 limits per email and per address';

-- ---------------------------------------------------------------------
-- account_audit_logs: the person's own stream: changes to their account
-- (name, password, reset, signing out sessions) that belong to no
-- workspace. Same shape as audit_logs, keyed by the person.
-- ---------------------------------------------------------------------
CREATE TABLE account_audit_logs (
    id           UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id      UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    action       VARCHAR(64) NOT NULL,
    changes      JSONB,
    ip_address   INET,
    user_agent   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_account_audit_logs_user_created ON account_audit_logs (user_id, created_at DESC);

COMMENT ON TABLE account_audit_logs IS
    'Append-only record of changes to a person''s own account, written in the same transaction as the change';

GRANT SELECT, INSERT ON account_audit_logs TO settings_app;

-- ---------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------

-- /password/forgot: one call for every email, known or not, so that the
-- answer costs the same. Requests for one email take turns (advisory
-- lock). Outcomes:
--   limited  too many requests for this email or address in the window
--            (not recorded, so waiting ends it)
--   none     no account with this email (the request is counted)
--   invited  an account without a password: invitations lists the
--            workspaces with a pending invitation ("Acme Corp, Globex")
--   sent     a token with hash p_token_hash now lives for p_ttl_seconds;
--            beyond the three newest live tokens, older ones are revoked
CREATE FUNCTION password_reset_request(p_email text, p_ip inet, p_token_hash text,
                                       p_ttl_seconds integer, p_max_per_email integer,
                                       p_max_per_ip integer, p_window_seconds integer,
                                       p_user_agent text)
RETURNS TABLE(outcome text, user_id uuid, email text, full_name text, invitations text)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_email text := lower(p_email);
    v_user  record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reset:' || v_email));
    IF (SELECT count(*) FROM password_reset_requests r
         WHERE r.email = v_email
           AND r.requested_at > now() - make_interval(secs => p_window_seconds)) >= p_max_per_email
       OR (p_ip IS NOT NULL AND
           (SELECT count(*) FROM password_reset_requests r
             WHERE r.ip = p_ip
               AND r.requested_at > now() - make_interval(secs => p_window_seconds)) >= p_max_per_ip)
    THEN
        outcome := 'limited';
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO password_reset_requests (email, ip) VALUES (v_email, p_ip);

    SELECT u.id, u.email, u.full_name, u.password_hash IS NOT NULL AS has_password
      INTO v_user
      FROM users u
     WHERE lower(u.email) = v_email;
    IF NOT FOUND THEN
        outcome := 'none';
        RETURN NEXT;
        RETURN;
    END IF;
    user_id := v_user.id;
    email := v_user.email;
    full_name := v_user.full_name;
    IF NOT v_user.has_password THEN
        outcome := 'invited';
        SELECT string_agg(w.name, ', ' ORDER BY w.name)
          INTO invitations
          FROM team_members tm
          JOIN workspaces w ON w.id = tm.workspace_id AND w.deleted_at IS NULL
         WHERE tm.user_id = v_user.id AND tm.status = 'pending' AND tm.deleted_at IS NULL;
        RETURN NEXT;
        RETURN;
    END IF;

    -- clock_timestamp(): links asked for in one transaction still have an order.
    INSERT INTO password_reset_tokens (user_id, token_hash, created_at, expires_at, ip)
    VALUES (v_user.id, p_token_hash, clock_timestamp(),
            now() + make_interval(secs => p_ttl_seconds), p_ip);
    UPDATE password_reset_tokens t
       SET revoked_at = now()
     WHERE t.user_id = v_user.id
       AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
       AND t.id NOT IN (SELECT t2.id FROM password_reset_tokens t2
                         WHERE t2.user_id = v_user.id
                           AND t2.used_at IS NULL AND t2.revoked_at IS NULL
                           AND t2.expires_at > now()
                         ORDER BY t2.created_at DESC, t2.id LIMIT 3);
    INSERT INTO account_audit_logs (user_id, action, changes, ip_address, user_agent)
    VALUES (v_user.id, 'account.password_reset_requested', NULL, p_ip, p_user_agent);
    outcome := 'sent';
    RETURN NEXT;
END
$$;

-- /password/reset: the token with hash p_token_hash, whatever its state:
-- live, used, replaced (revoked) or expired. The person's current bcrypt
-- hash comes along, for the rule that a new password must differ from it.
-- Zero rows for an unknown token.
CREATE FUNCTION password_reset_lookup(p_token_hash text)
RETURNS TABLE(user_id uuid, email text, password_hash text, state text)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.email::text, u.password_hash::text,
           CASE WHEN t.used_at IS NOT NULL THEN 'used'
                WHEN t.revoked_at IS NOT NULL THEN 'replaced'
                WHEN t.expires_at <= now() THEN 'expired'
                ELSE 'live' END
      FROM password_reset_tokens t
      JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = p_token_hash
$$;

-- /password/reset, the POST: uses the token once (its row is locked, so of
-- two uses at once one wins and the other sees 'used'), sets the new bcrypt
-- hash, revokes the person's other live tokens, ends every session of the
-- person and writes the audit row. Outcome 'reset' (with the person), or
-- the state that stops it: unknown, used, replaced, expired.
CREATE FUNCTION password_reset_use(p_token_hash text, p_new_hash text, p_ip inet,
                                   p_user_agent text)
RETURNS TABLE(outcome text, user_id uuid, sessions_ended integer)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    v_tok record;
BEGIN
    SELECT t.id, t.user_id, t.used_at, t.revoked_at, t.expires_at
      INTO v_tok
      FROM password_reset_tokens t
     WHERE t.token_hash = p_token_hash
       FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'unknown';
    ELSIF v_tok.used_at IS NOT NULL THEN
        outcome := 'used';
    ELSIF v_tok.revoked_at IS NOT NULL THEN
        outcome := 'replaced';
    ELSIF v_tok.expires_at <= now() THEN
        outcome := 'expired';
    END IF;
    IF outcome IS NOT NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE password_reset_tokens t SET used_at = now() WHERE t.id = v_tok.id;
    UPDATE password_reset_tokens t SET revoked_at = now()
     WHERE t.user_id = v_tok.user_id AND t.id <> v_tok.id
       AND t.used_at IS NULL AND t.revoked_at IS NULL;
    UPDATE users u SET password_hash = p_new_hash WHERE u.id = v_tok.user_id;
    DELETE FROM sessions s WHERE s.user_id = v_tok.user_id;
    GET DIAGNOSTICS sessions_ended = ROW_COUNT;
    INSERT INTO account_audit_logs (user_id, action, changes, ip_address, user_agent)
    VALUES (v_tok.user_id, 'account.password_reset',
            jsonb_build_object('password', 'changed', 'sessions_ended', sessions_ended),
            p_ip, p_user_agent);
    outcome := 'reset';
    user_id := v_tok.user_id;
    RETURN NEXT;
END
$$;

-- A password changed on /account: the reset links still out there die.
CREATE FUNCTION password_reset_revoke(p_user_id uuid)
RETURNS integer
    LANGUAGE sql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
    WITH r AS (
        UPDATE password_reset_tokens t SET revoked_at = now()
         WHERE t.user_id = p_user_id AND t.used_at IS NULL AND t.revoked_at IS NULL
        RETURNING 1)
    SELECT count(*)::integer FROM r
$$;

-- /account/name: the new name, and the old one (for the audit row). The
-- rename bumps the team_version of every workspace the person is on
-- (011_page_versions); those workspace rows are locked first, in id
-- order, the order a team change takes them (workspace, then the person),
-- so that a rename and a team change at once cannot deadlock.
CREATE FUNCTION account_rename(p_user_id uuid, p_full_name text)
RETURNS TABLE(old_name text, new_name text)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM workspaces w
      WHERE w.id IN (SELECT tm.workspace_id FROM team_members tm
                      WHERE tm.user_id = p_user_id OR tm.invited_by = p_user_id)
      ORDER BY w.id
        FOR NO KEY UPDATE;
    SELECT u.full_name INTO old_name FROM users u WHERE u.id = p_user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE users u SET full_name = p_full_name WHERE u.id = p_user_id;
    new_name := p_full_name;
    RETURN NEXT;
END
$$;

REVOKE EXECUTE ON FUNCTION password_reset_request(text, inet, text, integer, integer, integer, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION password_reset_lookup(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION password_reset_use(text, text, inet, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION password_reset_revoke(uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION account_rename(uuid, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION password_reset_request(text, inet, text, integer, integer, integer, integer, text) TO settings_app;
GRANT EXECUTE ON FUNCTION password_reset_lookup(text) TO settings_app;
GRANT EXECUTE ON FUNCTION password_reset_use(text, text, inet, text) TO settings_app;
GRANT EXECUTE ON FUNCTION password_reset_revoke(uuid) TO settings_app;
GRANT EXECUTE ON FUNCTION account_rename(uuid, text) TO settings_app;
