-- 012_workspace (down)

DROP FUNCTION workspace_purge_step(integer);
DROP TABLE workspace_purges;
DROP FUNCTION workspace_restore(uuid, text, inet, text);
DROP FUNCTION workspace_deleted_list(uuid);

DROP INDEX idx_audit_logs_workspace_user;
DROP INDEX idx_audit_logs_workspace_action;
DROP INDEX idx_audit_logs_workspace_created_id;

DROP FUNCTION api_key_verify(text);
DROP INDEX idx_api_keys_workspace_created;
ALTER TABLE api_keys DROP COLUMN revoked_by;
ALTER TABLE api_keys DROP COLUMN expires_at;

DROP TRIGGER integrations_config_deleted_workspace ON integrations_config;
DROP FUNCTION integrations_config_deleted_workspace_off();
ALTER TABLE integrations_config DROP COLUMN suspended_at;

DROP INDEX idx_workspaces_deleted_at;
ALTER TABLE workspaces DROP COLUMN deleted_by;
