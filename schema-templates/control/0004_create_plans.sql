-- Plans are data: each row is a set of limits, and tenants.plan names one.
-- NULL means unlimited. Every plan keeps a per-minute limit, because that one
-- protects the shared server, not just the price list. A feature is listed in
-- `features` to be on; the list of known features is closed by a CHECK, so a
-- misspelt flag fails here rather than silently switching a feature off.
--
-- Servers cache these rows. A change is announced on the registry's channel
-- with {"plan": name} (no tenant id), which tells every server to forget its
-- cached plans and per-tenant state, as after a lost connection.

-- migrate:up
CREATE TABLE plans (
  name                text    PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,39}$'),
  max_users           integer CHECK (max_users > 0),
  max_storage_bytes   bigint  CHECK (max_storage_bytes > 0),
  requests_per_minute integer NOT NULL CHECK (requests_per_minute > 0),
  requests_per_day    integer CHECK (requests_per_day >= requests_per_minute),
  features            text[]  NOT NULL DEFAULT '{}'
                              CONSTRAINT plans_features_known CHECK (features <@ ARRAY['workflows']::text[])
);

-- custom starts as a copy of premium's limits; operators edit its row per
-- contract, or add plans of their own.
INSERT INTO plans (name, max_users, max_storage_bytes, requests_per_minute, requests_per_day, features) VALUES
  ('basic',         25,    1073741824,    600,    100000, '{}'),
  ('premium',      100,   10737418240,   3000,   1000000, '{workflows}'),
  ('enterprise',  NULL,  107374182400,  12000,  10000000, '{workflows}'),
  ('custom',       100,   10737418240,   3000,   1000000, '{workflows}');

ALTER TABLE tenants DROP CONSTRAINT tenants_plan_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_plan_fkey FOREIGN KEY (plan) REFERENCES plans (name) ON UPDATE CASCADE;

CREATE FUNCTION notify_plan_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_tenant_changed', json_build_object('plan', COALESCE(NEW.name, OLD.name))::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER plans_notify_change AFTER INSERT OR UPDATE OR DELETE ON plans
  FOR EACH ROW EXECUTE FUNCTION notify_plan_change();

-- migrate:down
DROP TRIGGER plans_notify_change ON plans;
DROP FUNCTION notify_plan_change();
ALTER TABLE tenants DROP CONSTRAINT tenants_plan_fkey;
ALTER TABLE tenants ADD CONSTRAINT tenants_plan_check CHECK (plan IN ('basic', 'premium', 'enterprise', 'custom'));
DROP TABLE plans;
