-- 007_team (down)

DROP INDEX idx_team_members_workspace_status_joined;
