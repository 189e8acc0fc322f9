-- 007_team (down)

DROP INDEX IF EXISTS idx_users_full_name_trgm;
DROP INDEX IF EXISTS idx_users_email_trgm;
DROP EXTENSION IF EXISTS pg_trgm;
DROP INDEX idx_team_members_workspace_status_joined;
