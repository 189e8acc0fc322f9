-- 002_phase5_settings (down): drops the three Phase 5 tables with their
-- indexes, triggers and comments.

DROP TABLE integrations_config;
DROP TABLE billing_config;
DROP TABLE team_members;
