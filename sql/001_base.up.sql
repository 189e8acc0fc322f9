-- 001_base: the tables and helpers the Phase 5 schema document treats as
-- "existing" (workspaces, users, workspace_members, agents, api_keys,
-- uuid_generate_v4(), update_updated_at_column()).

CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;

CREATE FUNCTION update_updated_at_column() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION update_updated_at_column() IS
    'BEFORE UPDATE trigger: sets updated_at to the transaction timestamp';

-- ---------------------------------------------------------------------
-- workspaces: the tenants. Soft-deleted through deleted_at.
-- ---------------------------------------------------------------------
CREATE TABLE workspaces (
    id          UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name        VARCHAR(256) NOT NULL,
    slug        VARCHAR(63) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at  TIMESTAMPTZ,

    CONSTRAINT workspaces_slug_key UNIQUE (slug),
    CONSTRAINT workspaces_slug_check CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    CONSTRAINT workspaces_name_check CHECK (length(btrim(name)) > 0)
);

COMMENT ON TABLE workspaces IS 'Tenants; every workspace-scoped row references one';
COMMENT ON COLUMN workspaces.slug IS 'URL name used in /w/{slug}/...: lowercase letters, digits, hyphens';
COMMENT ON COLUMN workspaces.deleted_at IS 'Soft delete timestamp - NULL if live';

CREATE TRIGGER update_workspaces_updated_at
BEFORE UPDATE ON workspaces
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------
-- users: people who sign in. Not workspace-scoped.
-- ---------------------------------------------------------------------
CREATE TABLE users (
    id             UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    email          VARCHAR(256) NOT NULL,
    password_hash  TEXT,
    full_name      VARCHAR(256),
    is_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT users_email_check CHECK (position('@' IN email) > 1)
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

COMMENT ON TABLE users IS 'Accounts; a row without password_hash belongs to someone invited who has not set a password yet';
COMMENT ON COLUMN users.email IS 'Unique case-insensitively (index users_email_lower_key)';
COMMENT ON COLUMN users.password_hash IS 'bcrypt ($2b$) hash; NULL = invited, no password yet';

CREATE TRIGGER update_users_updated_at
BEFORE UPDATE ON users
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------
-- workspace_members: legacy membership table, superseded by team_members
-- (002). Kept because the schema document says it exists; the
-- application does not use it.
-- ---------------------------------------------------------------------
CREATE TABLE workspace_members (
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          VARCHAR(32) NOT NULL DEFAULT 'member',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    PRIMARY KEY (workspace_id, user_id)
);

CREATE INDEX idx_workspace_members_user ON workspace_members (user_id);

COMMENT ON TABLE workspace_members IS 'Legacy membership table, superseded by team_members; unused by the application';

-- ---------------------------------------------------------------------
-- agents: the monitored agents of a workspace.
-- ---------------------------------------------------------------------
CREATE TABLE agents (
    id            UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          VARCHAR(128) NOT NULL,
    description   TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT agents_workspace_name_key UNIQUE (workspace_id, name)
);

COMMENT ON TABLE agents IS 'Monitored agents; name is what integrations_config.event_filters.agents refers to';

CREATE TRIGGER update_agents_updated_at
BEFORE UPDATE ON agents
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------
-- api_keys: ingestion keys of a workspace. Active = revoked_at IS NULL.
-- Only a hash of the key is stored; key_prefix is what the UI shows.
-- ---------------------------------------------------------------------
CREATE TABLE api_keys (
    id            UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    workspace_id  UUID NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          VARCHAR(128) NOT NULL,
    key_prefix    VARCHAR(16) NOT NULL,
    key_hash      VARCHAR(128) NOT NULL,
    created_by    UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,

    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

CREATE INDEX idx_api_keys_workspace_active
    ON api_keys (workspace_id) WHERE revoked_at IS NULL;

COMMENT ON TABLE api_keys IS 'Workspace API keys; active = revoked_at IS NULL';
COMMENT ON COLUMN api_keys.key_hash IS 'SHA-256 hex of the full key; the key itself is never stored';

CREATE TRIGGER update_api_keys_updated_at
BEFORE UPDATE ON api_keys
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();
