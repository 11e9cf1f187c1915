-- How each tenant's tokens are verified. Built-in identity signs HS256 with a
-- per-tenant secret made at provisioning (rotatable); a tenant that brings
-- its own identity provider adds a JWKS URL or a public key, its issuer and
-- audience, and the asymmetric algorithms it uses.

-- migrate:up
CREATE TABLE tenant_auth (
  tenant_id     uuid        PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  hmac_secret   text        NOT NULL CHECK (length(hmac_secret) >= 43),
  jwks_url      text        CHECK (jwks_url ~ '^https?://'),
  public_key    text        CHECK (public_key LIKE '-----BEGIN PUBLIC KEY-----%'),
  idp_issuer    text,
  idp_audience  text,
  idp_algorithms text[]     NOT NULL DEFAULT '{}'
                            CHECK (idp_algorithms <@ ARRAY['RS256','RS384','RS512','PS256','ES256','ES384','EdDSA']::text[]),
  rotated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (jwks_url IS NULL OR public_key IS NULL),
  CHECK ((jwks_url IS NULL AND public_key IS NULL) OR (idp_issuer IS NOT NULL AND cardinality(idp_algorithms) > 0))
);

-- Tenants provisioned before this migration get a secret now: two v4 uuids
-- carry 244 random bits.
INSERT INTO tenant_auth (tenant_id, hmac_secret)
SELECT id, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') FROM tenants;

CREATE FUNCTION notify_tenant_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_tenant_changed', json_build_object('id', COALESCE(NEW.tenant_id, OLD.tenant_id), 'slugs', json_build_array())::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenant_auth_notify_change AFTER INSERT OR UPDATE OR DELETE ON tenant_auth
  FOR EACH ROW EXECUTE FUNCTION notify_tenant_auth_change();

-- migrate:down
DROP TRIGGER tenant_auth_notify_change ON tenant_auth;
DROP FUNCTION notify_tenant_auth_change();
DROP TABLE tenant_auth;
