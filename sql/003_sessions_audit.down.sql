-- 003_sessions_audit (down)

DROP TABLE audit_logs;
DROP TABLE login_attempts;
DROP TABLE sessions;
