-- 005_counters (down): the counters keep their last values and are no
-- longer maintained.

DROP TRIGGER billing_config_usage_counts ON billing_config;
DROP TRIGGER api_keys_billing_counts_update ON api_keys;
DROP TRIGGER api_keys_billing_counts_insert_delete ON api_keys;
DROP TRIGGER team_members_billing_counts_update ON team_members;
DROP TRIGGER team_members_billing_counts_insert_delete ON team_members;
DROP FUNCTION billing_config_usage_counts_fill();
DROP FUNCTION billing_usage_counts_trigger();
DROP FUNCTION billing_refresh_usage_counts(uuid);
