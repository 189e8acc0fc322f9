-- 003_sessions_audit: server-side sessions, sign-in throttling, audit log.
-- (Pre-sign-in CSRF protection uses a signed cookie: no table.)

-- ---------------------------------------------------------------------
-- sessions: one row per signed-in browser. The cookie carries a random
-- token; only its SHA-256 (lowercase hex) is stored.
-- Valid while expires_at > now() (absolute expiry) and last_seen_at is
-- recent enough (idle expiry, checked by auth_session_context()).
-- ---------------------------------------------------------------------
CREATE TABLE sessions (
    id            UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    token_hash    CHAR(64) NOT NULL,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at    TIMESTAMPTZ NOT NULL,
    user_agent    TEXT,
    ip            INET,

    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$')
);

CREATE INDEX idx_sessions_user ON sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);

COMMENT ON TABLE sessions IS 'Server-side sessions; the cookie token is stored only as its SHA-256';
COMMENT ON COLUMN sessions.token_hash IS 'SHA-256 of the session cookie token, lowercase hex';
COMMENT ON COLUMN sessions.csrf_token IS 'Per-session CSRF token echoed in every form';
COMMENT ON COLUMN sessions.expires_at IS 'Absolute expiry; idle expiry is last_seen_at + the idle timeout';

-- ---------------------------------------------------------------------
-- login_attempts: sign-in attempts, for throttling (429) per email and
-- per client address.
-- ---------------------------------------------------------------------
CREATE TABLE login_attempts (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT,
    ip            INET,
    attempted_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT login_attempts_email_lower_check CHECK (email = lower(email))
);

CREATE INDEX idx_login_attempts_email ON login_attempts (email, attempted_at);
CREATE INDEX idx_login_attempts_ip ON login_attempts (ip, attempted_at);

COMMENT ON TABLE login_attempts IS 'Sign-in attempts used for throttling';
COMMENT ON COLUMN login_attempts.email IS 'Email as typed, lowercased (enforced)';

-- ---------------------------------------------------------------------
-- audit_logs: as the schema document's "Audit Logging" section.
-- action is e.g. 'team_member.role_changed'; changes holds old and new
-- values.
-- ---------------------------------------------------------------------
CREATE TABLE audit_logs (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    user_id UUID REFERENCES users(id),
    action VARCHAR(64) NOT NULL,
    resource_type VARCHAR(64) NOT NULL,
    resource_id UUID,
    changes JSONB,
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_audit_logs_workspace_created
    ON audit_logs (workspace_id, created_at DESC);

COMMENT ON TABLE audit_logs IS 'Append-only record of every change, written in the same transaction as the change';
COMMENT ON COLUMN audit_logs.changes IS 'Old and new values of the change';
