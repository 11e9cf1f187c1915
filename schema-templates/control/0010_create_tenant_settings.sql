-- Per-tenant settings: feature toggles, integration secrets, webhook
-- credentials. A secret's value is kept only as AES-256-GCM ciphertext under
-- the tenant's own data key, and that key only wrapped by a master key that
-- never enters the database (SETTINGS_MASTER_KEY): a dump of this database
-- alone reveals no secret. Re-wrapping the data keys under a new master key
-- touches one row per tenant, never the settings. Every reveal of a secret
-- leaves a row: who, which key, when.

-- migrate:up
CREATE TABLE tenant_data_keys (
  tenant_id     uuid        CONSTRAINT tenant_data_keys_pkey PRIMARY KEY
                            CONSTRAINT tenant_data_keys_tenant_id_fkey REFERENCES tenants (id) ON DELETE CASCADE,
  -- The first 16 hex digits of the master key's SHA-256: which configured key unwraps this one.
  master_key_id text        NOT NULL CONSTRAINT tenant_data_keys_master_key_id_check CHECK (master_key_id ~ '^[0-9a-f]{16}$'),
  wrapped_key   bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  wrapped_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_data_keys_master_key_id_idx ON tenant_data_keys (master_key_id);

CREATE TABLE tenant_settings (
  tenant_id  uuid        NOT NULL CONSTRAINT tenant_settings_tenant_id_fkey REFERENCES tenants (id) ON DELETE CASCADE,
  key        text        NOT NULL CONSTRAINT tenant_settings_key_check CHECK (key ~ '^[a-z][a-z0-9_.-]{0,62}$'),
  secret     boolean     NOT NULL,
  -- Exactly one of the two: the plain value of a setting, the sealed value (nonce, tag, ciphertext) of a secret.
  value      text        CONSTRAINT tenant_settings_value_check CHECK (octet_length(value) <= 8192),
  ciphertext bytea,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_settings_pkey PRIMARY KEY (tenant_id, key),
  CONSTRAINT tenant_settings_secret_sealed CHECK (
    CASE WHEN secret THEN value IS NULL AND ciphertext IS NOT NULL ELSE value IS NOT NULL AND ciphertext IS NULL END
  )
);

-- No foreign key: the record of who read a tenant's secrets outlives the tenant's purge.
CREATE TABLE tenant_setting_reveals (
  id          bigint      GENERATED ALWAYS AS IDENTITY CONSTRAINT tenant_setting_reveals_pkey PRIMARY KEY,
  tenant_id   uuid        NOT NULL,
  key         text        NOT NULL,
  revealed_by text        NOT NULL,
  revealed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_setting_reveals_tenant_id_revealed_at_idx ON tenant_setting_reveals (tenant_id, revealed_at DESC);

-- migrate:down
DROP TABLE tenant_setting_reveals;
DROP TABLE tenant_settings;
DROP TABLE tenant_data_keys;
