import type { Kysely, Selectable } from 'kysely';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';

type Db = Kysely<ControlDatabase>;

/** A custom host of a tenant (control migration 0009); `host` is normalised (domain-name.ts). */
export type TenantDomain = Selectable<ControlDatabase['control.tenant_domains']>;

/** Inserts the host unless some tenant holds it already: undefined then, and nothing written. */
export async function insertTenantDomain(db: Db, row: { readonly host: string; readonly tenantId: string; readonly token: string }): Promise<TenantDomain | undefined> {
  return db
    .insertInto('control.tenant_domains')
    .values({ host: row.host, tenant_id: row.tenantId, verification_token: row.token })
    .onConflict((conflict) => conflict.column('host').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findTenantDomain(db: Db, host: string): Promise<TenantDomain | undefined> {
  return db.selectFrom('control.tenant_domains').selectAll().where('host', '=', host).executeTakeFirst();
}

export async function listTenantDomains(db: Db, tenantId: string): Promise<TenantDomain[]> {
  return db.selectFrom('control.tenant_domains').selectAll().where('tenant_id', '=', tenantId).orderBy('host').execute();
}

/** The domains of each of these tenants, for a page of tenants in one query. */
export async function listDomainsOfTenants(db: Db, tenantIds: readonly string[]): Promise<TenantDomain[]> {
  if (tenantIds.length === 0) return [];
  return db.selectFrom('control.tenant_domains').selectAll().where('tenant_id', 'in', tenantIds).orderBy('host').execute();
}

export async function markTenantDomainVerified(db: Db, host: string, token: string): Promise<TenantDomain | undefined> {
  // The token in the WHERE: a domain removed and added again meanwhile has a new one, which was not the one checked.
  return db
    .updateTable('control.tenant_domains')
    .set({ verified_at: new Date() })
    .where('host', '=', host)
    .where('verification_token', '=', token)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteTenantDomain(db: Db, tenantId: string, host: string): Promise<TenantDomain | undefined> {
  return db.deleteFrom('control.tenant_domains').where('host', '=', host).where('tenant_id', '=', tenantId).returningAll().executeTakeFirst();
}

/** The tenant a verified domain serves; an unverified or unknown host finds none. */
export async function findTenantByVerifiedHost(db: Db, host: string): Promise<Tenant | undefined> {
  return db
    .selectFrom('control.tenant_domains as d')
    .innerJoin('control.tenants as t', 't.id', 'd.tenant_id')
    .selectAll('t')
    .where('d.host', '=', host)
    .where('d.verified_at', 'is not', null)
    .executeTakeFirst();
}
