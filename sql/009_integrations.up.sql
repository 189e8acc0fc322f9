-- 009_integrations: what the integrations page records beside the schema
-- document's integrations_config columns.
--
-- credentials_meta says which secret fields of an integration are set, by
-- whom and when ({"bot_token": {"set_by": "<user id>", "set_at": "..."}}),
-- so the page can show "set by ... on ..." without ever reading a secret.
-- The secrets themselves stay in credentials_encrypted (AES-256-GCM, one
-- JSON object per integration) with the key id in encryption_key_id; the
-- two are set together or not at all.

ALTER TABLE integrations_config
    ADD COLUMN credentials_meta JSONB NOT NULL DEFAULT '{}';

ALTER TABLE integrations_config
    ADD CONSTRAINT integrations_config_credentials_meta_check
        CHECK (jsonb_typeof(credentials_meta) = 'object');

ALTER TABLE integrations_config
    ADD CONSTRAINT integrations_config_credentials_key_check
        CHECK ((credentials_encrypted IS NULL) = (encryption_key_id IS NULL));

COMMENT ON COLUMN integrations_config.credentials_meta IS
    'Which secret fields are set, by whom and when (never the values)';
