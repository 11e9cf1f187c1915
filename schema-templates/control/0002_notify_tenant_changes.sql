-- Servers cache the registry in memory; this tells every one of them, at
-- commit, which tenant changed, so a suspension takes effect on the next
-- request. template_version is left out: routing does not depend on it, and
-- a fleet migration would otherwise send one notification per tenant.

-- migrate:up
CREATE FUNCTION notify_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('schemata_tenant_changed', json_build_object(
    'id', COALESCE(NEW.id, OLD.id),
    'slugs', json_build_array(NEW.slug, OLD.slug)
  )::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_notify_change
  AFTER INSERT OR DELETE OR UPDATE OF slug, name, status, plan, schema_name ON tenants
  FOR EACH ROW EXECUTE FUNCTION notify_tenant_change();

-- migrate:down
DROP TRIGGER tenants_notify_change ON tenants;
DROP FUNCTION notify_tenant_change();
