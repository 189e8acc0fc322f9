-- 008_billing (down)

DROP FUNCTION billing_rollover_due();
DROP FUNCTION billing_rollover(uuid);
DROP FUNCTION billing_audit_changes(jsonb, jsonb);
DROP FUNCTION billing_audit_fields(billing_config);

ALTER TABLE billing_config DROP COLUMN stripe_last_event_at;
