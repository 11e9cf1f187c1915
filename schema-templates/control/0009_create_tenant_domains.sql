-- Custom hosts (events.customer.example) that serve a tenant like its
-- subdomain. A host serves only once verified_at is set: the tenant published
-- verification_token at its host and an operator's verify action found it.
-- Only a verified host is held: several tenants may claim one at a time (so a
-- claim nobody proves cannot keep the owner out), at most one may have it
-- verified, and verifying it removes the other claims. The host is stored
-- normalised (lowercase ASCII, IDNA, no port or trailing dot), so the CHECK
-- only guards the shape. Servers cache host lookups, so every change notifies
-- the registry's channel with the tenant and the host.

-- migrate:up
CREATE TABLE tenant_domains (
  tenant_id          uuid        NOT NULL CONSTRAINT tenant_domains_tenant_id_fkey REFERENCES tenants (id) ON DELETE CASCADE,
  host               text        NOT NULL CONSTRAINT tenant_domains_host_check CHECK (length(host) <= 253 AND host ~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$'),
  verification_token text        NOT NULL CONSTRAINT tenant_domains_verification_token_check CHECK (length(verification_token) >= 43),
  created_at         timestamptz NOT NULL DEFAULT now(),
  verified_at        timestamptz,
  CONSTRAINT tenant_domains_pkey PRIMARY KEY (tenant_id, host)
);
-- The one tenant a host serves; resolution looks it up here.
CREATE UNIQUE INDEX tenant_domains_verified_host_key ON tenant_domains (host) WHERE verified_at IS NOT NULL;
-- Every claim on a host, for the claims a verification removes.
CREATE INDEX tenant_domains_host_idx ON tenant_domains (host);

CREATE FUNCTION notify_tenant_domain_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_tenant_changed', json_build_object(
    'id', COALESCE(NEW.tenant_id, OLD.tenant_id),
    'slugs', json_build_array(),
    'hosts', json_build_array(NEW.host, OLD.host)
  )::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenant_domains_notify_change AFTER INSERT OR UPDATE OR DELETE ON tenant_domains
  FOR EACH ROW EXECUTE FUNCTION notify_tenant_domain_change();

-- migrate:down
DROP TRIGGER tenant_domains_notify_change ON tenant_domains;
DROP FUNCTION notify_tenant_domain_change();
DROP TABLE tenant_domains;
