-- 004_plans_billing (down)

DROP TABLE stripe_events;
DROP TABLE usage_history;
ALTER TABLE billing_config DROP CONSTRAINT billing_config_plan_type_fkey;
DROP TABLE plan_catalog;
