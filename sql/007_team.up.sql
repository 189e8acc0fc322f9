-- 007_team: indexes for the team page (cgi/team.c).
--
-- The page lists each section (active members, pending invitations,
-- inactive members) 50 rows at a time, ordered by when the person joined
-- (or was invited). This index serves that order straight from the index,
-- so a page of a 10,000-member workspace reads about 50 rows instead of
-- sorting all of them; the counts read the existing partial indexes of
-- 002 (or the trigger-kept billing_config.team_members_current).
CREATE INDEX idx_team_members_workspace_status_joined
    ON team_members (workspace_id, status, (coalesce(accepted_at, created_at)), id)
    WHERE deleted_at IS NULL;

COMMENT ON INDEX idx_team_members_workspace_status_joined IS
    'Team page: one section of a workspace in join order, 50 at a time';

-- Search by name or email (?q=, a case-insensitive substring): trigram
-- indexes let ILIKE '%...%' find the matching users without reading every
-- member of a large workspace. pg_trgm ships with PostgreSQL (Debian's
-- postgresql-15) and is a trusted extension, so the database owner can
-- create it; where a packaging leaves it out, the search still works,
-- only without these indexes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
        CREATE INDEX idx_users_email_trgm ON users USING gin (email gin_trgm_ops);
        CREATE INDEX idx_users_full_name_trgm ON users USING gin (full_name gin_trgm_ops);
    END IF;
END
$$;
