-- Issue 5's control plane: soft delete (restorable until purged), request
-- usage per tenant and day, the platform operators' signing key, and the
-- precomputed fleet analytics.

-- migrate:up
ALTER TABLE tenants
  ADD COLUMN deleted_at timestamptz,
  -- Restore puts a tenant back as it was: a tenant suspended for non-payment
  -- and then deleted must not come back active.
  ADD COLUMN status_before_delete text CHECK (status_before_delete IN ('active', 'suspended'));
UPDATE tenants SET deleted_at = updated_at, status_before_delete = 'active' WHERE status = 'deleted';
ALTER TABLE tenants ADD CONSTRAINT tenants_deleted_consistent
  CHECK ((status = 'deleted') = (deleted_at IS NOT NULL) AND (status = 'deleted') = (status_before_delete IS NOT NULL));

-- Written by servers in batches (one upsert per tenant per flush), not per request.
CREATE TABLE tenant_usage_daily (
  tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day             date        NOT NULL,
  requests        bigint      NOT NULL DEFAULT 0 CHECK (requests >= 0),
  errors          bigint      NOT NULL DEFAULT 0 CHECK (errors >= 0),
  last_request_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, day)
);

-- One row: the HS256 secret that signs platform-admin tokens for /admin/graphql.
CREATE TABLE platform_auth (
  singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  hmac_secret text        NOT NULL CHECK (length(hmac_secret) >= 43),
  rotated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO platform_auth (hmac_secret) VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- Cross-tenant aggregates, computed by one batched pass over the fleet and
-- read by the admin API; they hold counts only, never a tenant's id or name.
CREATE TABLE fleet_analytics (
  id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  computed_at         timestamptz NOT NULL DEFAULT now(),
  duration_ms         integer     NOT NULL CHECK (duration_ms >= 0),
  tenants_scanned     integer     NOT NULL CHECK (tenants_scanned >= 0),
  deployments_by_status jsonb     NOT NULL,
  workflows_by_status jsonb       NOT NULL,
  growth              jsonb       NOT NULL
);

-- migrate:down
DROP TABLE fleet_analytics;
DROP TABLE platform_auth;
DROP TABLE tenant_usage_daily;
ALTER TABLE tenants DROP CONSTRAINT tenants_deleted_consistent;
ALTER TABLE tenants DROP COLUMN status_before_delete, DROP COLUMN deleted_at;
