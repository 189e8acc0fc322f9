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
