-- 011_page_versions (down): no more versions; pages are always rendered.

DROP FUNCTION auth_page_check(text, text, integer);
DROP TRIGGER billing_config_versions_team ON billing_config;
DROP FUNCTION billing_config_bump_team_version();
DROP TRIGGER workspaces_versions_members ON workspaces;
DROP FUNCTION workspaces_bump_member_versions();
DROP TRIGGER users_versions_teams ON users;
DROP TRIGGER users_version_own ON users;
DROP FUNCTION users_bump_team_versions();
DROP FUNCTION users_bump_own_version();
DROP TRIGGER team_members_versions_update ON team_members;
DROP TRIGGER team_members_versions_insert_delete ON team_members;
DROP FUNCTION team_members_bump_versions();

DROP TRIGGER update_users_updated_at ON users;
CREATE TRIGGER update_users_updated_at
BEFORE UPDATE ON users
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER update_workspaces_updated_at ON workspaces;
CREATE TRIGGER update_workspaces_updated_at
BEFORE UPDATE ON workspaces
FOR EACH ROW
EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE users DROP COLUMN ctx_version;
ALTER TABLE workspaces DROP COLUMN team_version;
