-- 013_account (down): no reset links, no reset limits, no personal audit stream.

DROP FUNCTION account_rename(uuid, text);
DROP FUNCTION password_reset_revoke(uuid);
DROP FUNCTION password_reset_use(text, text, inet, text);
DROP FUNCTION password_reset_lookup(text);
DROP FUNCTION password_reset_request(text, inet, text, integer, integer, integer, integer, text);
DROP TABLE account_audit_logs;
DROP TABLE password_reset_requests;
DROP TABLE password_reset_tokens;
