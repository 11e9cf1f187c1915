import type { Kysely, Selectable } from 'kysely';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';

type Db = Kysely<ControlDatabase>;

/** A custom host of a tenant (control migration 0009); `host` is normalised (domain-name.ts). */
export type TenantDomain = Selectable<ControlDatabase['control.tenant_domains']>;

/**
 * Claims the host for the tenant, unverified. Undefined, and nothing written,
 * when the tenant holds it already; other tenants' claims do not stop it (only
 * a verified one does, which the caller checks: `findVerifiedDomain`).
 */
export async function insertTenantDomain(db: Db, row: { readonly host: string; readonly tenantId: string; readonly token: string }): Promise<TenantDomain | undefined> {
  return db
    .insertInto('control.tenant_domains')
    .values({ host: row.host, tenant_id: row.tenantId, verification_token: row.token })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'host']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findTenantDomain(db: Db, tenantId: string, host: string): Promise<TenantDomain | undefined> {
  return db.selectFrom('control.tenant_domains').selectAll().where('tenant_id', '=', tenantId).where('host', '=', host).executeTakeFirst();
}

/** The claim that holds the host, if some tenant has verified it. */
export async function findVerifiedDomain(db: Db, host: string): Promise<TenantDomain | undefined> {
  return db.selectFrom('control.tenant_domains').selectAll().where('host', '=', host).where('verified_at', 'is not', null).executeTakeFirst();
}

export async function listTenantDomains(db: Db, tenantId: string): Promise<TenantDomain[]> {
  return db.selectFrom('control.tenant_domains').selectAll().where('tenant_id', '=', tenantId).orderBy('host').execute();
}

/** The domains of each of these tenants, for a page of tenants in one query. */
export async function listDomainsOfTenants(db: Db, tenantIds: readonly string[]): Promise<TenantDomain[]> {
  if (tenantIds.length === 0) return [];
  return db.selectFrom('control.tenant_domains').selectAll().where('tenant_id', 'in', tenantIds).orderBy('host').execute();
}

/**
 * Marks the tenant's claim verified and deletes every other tenant's claim on
 * the host; run it in a transaction. 'taken' when another tenant's claim was
 * verified first (the unique index on verified hosts), undefined when the
 * claim is gone or has another token.
 */
export async function markTenantDomainVerified(db: Db, claim: { readonly tenantId: string; readonly host: string; readonly token: string }): Promise<TenantDomain | 'taken' | undefined> {
  let verified: TenantDomain | undefined;
  try {
    // The token in the WHERE: a domain removed and added again meanwhile has a new one, which was not the one checked.
    verified = await db
      .updateTable('control.tenant_domains')
      .set({ verified_at: new Date() })
      .where('tenant_id', '=', claim.tenantId)
      .where('host', '=', claim.host)
      .where('verification_token', '=', claim.token)
      .returningAll()
      .executeTakeFirst();
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'tenant_domains_verified_host_key') return 'taken';
    throw error;
  }
  if (verified) await db.deleteFrom('control.tenant_domains').where('host', '=', claim.host).where('tenant_id', '<>', claim.tenantId).execute();
  return verified;
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
