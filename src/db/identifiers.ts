import pg from 'pg';

const TENANT_SCHEMA = /^tenant_[0-9a-f]{32}$/;
/** The control plane's schema: the registry, plans and usage (its Kysely types name it: `control.tenants`). */
export const CONTROL_SCHEMA = 'control';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A canonical (lowercase) uuid: the shape of every id we hand out, checked before it reaches SQL. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Schema (and role) name of a tenant: derived from its uuid, never from request text. */
export function tenantSchemaName(tenantId: string): string {
  return assertTenantSchemaName(`tenant_${tenantId.replaceAll('-', '').toLowerCase()}`);
}

/**
 * Allowlist check applied before a name is spliced into DDL or set_config:
 * only our own generated shape passes, whatever the registry row says.
 */
export function assertTenantSchemaName(name: string): string {
  if (!TENANT_SCHEMA.test(name)) throw new Error(`refusing non-tenant schema name ${JSON.stringify(name)}`);
  return name;
}

/** Quoted identifier for places that take a string value, such as set_config('search_path', …). */
export function quoteIdentifier(name: string): string {
  return pg.escapeIdentifier(name);
}
