-- 001_base (down)

DROP TABLE api_keys;
DROP TABLE agents;
DROP TABLE workspace_members;
DROP TABLE users;
DROP TABLE workspaces;
DROP FUNCTION update_updated_at_column();
DROP EXTENSION "uuid-ossp";
