import { randomSecret } from '../../auth/random-secret.js';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { SchemataError } from '../../errors.js';
import { isPlatformHost, normalizeDomain, type PlatformHosts } from '../registry/domain-name.js';
import {
  deleteTenantDomain,
  findTenantDomain,
  findVerifiedDomain,
  insertTenantDomain,
  listTenantDomains,
  markTenantDomainVerified,
  type TenantDomain,
} from '../registry/tenant-domain.repository.js';
import { checkDomainToken, type DomainCheckOptions } from './domain-verification.js';
import { getTenant } from './tenant.service.js';

/*
 * A tenant's custom domains: added unverified with a fresh token, verified
 * by finding that token at the host, removed. Only a verified domain resolves
 * requests (tenant-registry.ts findByHost); every change reaches every
 * server's cache through the trigger of control migration 0009. Claims do
 * not hold a host, a verification does: several tenants may claim one, and
 * the one that proves it keeps it while the other claims go.
 */

/**
 * Adds `hostInput` (normalised: `Events.Customer.Example.` is
 * `events.customer.example`) to the tenant, unverified. A host another
 * tenant has verified, or the tenant holds already, is DOMAIN_TAKEN and
 * nothing changes; another tenant's mere claim is no obstacle. One of the
 * platform's own is INVALID_DOMAIN.
 */
export async function addTenantDomain(database: Database, platform: PlatformHosts, slug: string, hostInput: unknown): Promise<TenantDomain> {
  const host = normalizeDomain(hostInput);
  if (isPlatformHost(host, platform)) {
    const own = platform.baseDomain === '' ? 'one of the server\'s own names (SERVER_HOSTS)' : `the platform's (${platform.baseDomain}, its subdomains, or SERVER_HOSTS)`;
    throw new SchemataError('INVALID_DOMAIN', `invalid domain "${host}": it is ${own}, not a custom domain`, { field: 'host' });
  }
  const tenant = await liveTenant(database, slug, 'add a domain to');
  const verified = await findVerifiedDomain(database.control, host);
  if (verified && verified.tenant_id !== tenant.id) throw takenByAnother(host);
  // A verification landing between that look and this insert leaves a claim that can never be verified (DOMAIN_TAKEN then), and that its tenant may remove.
  const inserted = await insertTenantDomain(database.control, { host, tenantId: tenant.id, token: randomSecret() });
  if (inserted) return inserted;
  throw new SchemataError('DOMAIN_TAKEN', `"${host}" is already a domain of tenant "${tenant.slug}"`, { field: 'host' });
}

export async function listDomainsOfTenant(database: Database, slug: string): Promise<{ tenant: Tenant; domains: TenantDomain[] }> {
  const tenant = await getTenant(database, slug);
  return { tenant, domains: await listTenantDomains(database.control, tenant.id) };
}

/** Removes the domain; it stops resolving on every server at once. */
export async function removeTenantDomain(database: Database, slug: string, hostInput: unknown): Promise<TenantDomain> {
  const host = normalizeDomain(hostInput);
  const tenant = await getTenant(database, slug);
  return (await deleteTenantDomain(database.control, tenant.id, host)) ?? domainNotFound(tenant, host);
}

/**
 * Fetches `http://<host>/.well-known/schemata-verification/<token>` and, when
 * it answers 200 with the token, marks the domain verified and removes other
 * tenants' claims on the host, in one transaction. A failure says why with
 * its code (DOMAIN_UNREACHABLE, DOMAIN_TOKEN_NOT_SERVED,
 * DOMAIN_TOKEN_MISMATCH; DOMAIN_TAKEN when another tenant verified the host
 * first) and changes nothing; a verified domain may be checked again.
 */
export async function verifyTenantDomain(database: Database, slug: string, hostInput: unknown, options: DomainCheckOptions = {}): Promise<TenantDomain> {
  const host = normalizeDomain(hostInput);
  const tenant = await liveTenant(database, slug, 'verify a domain of');
  const domain = await findTenantDomain(database.control, tenant.id, host);
  if (!domain) return domainNotFound(tenant, host);
  const holder = await findVerifiedDomain(database.control, host);
  if (holder && holder.tenant_id !== tenant.id) throw takenByAnother(host);
  const check = await checkDomainToken(host, domain.verification_token, options);
  if (!check.ok) throw new SchemataError(check.code, `domain "${host}" is not verified: ${check.reason}`, { field: 'host' });
  return database.control.transaction().execute(async (trx) => {
    const verified = await markTenantDomainVerified(trx, { tenantId: tenant.id, host, token: domain.verification_token });
    if (verified === 'taken') throw takenByAnother(host);
    // Removed (or removed and added again, with a new token) while the check ran: what was checked is gone.
    return verified ?? domainNotFound(tenant, host);
  });
}

/** A soft-deleted tenant keeps its domains (until purged) but gets no new ones. */
async function liveTenant(database: Database, slug: string, action: string): Promise<Tenant> {
  const tenant = await getTenant(database, slug);
  if (tenant.status === 'deleted') {
    throw new SchemataError('TENANT_DELETED', `cannot ${action} tenant "${tenant.slug}": it is deleted; restore it first`, { slug: tenant.slug });
  }
  return tenant;
}

function takenByAnother(host: string): SchemataError {
  return new SchemataError('DOMAIN_TAKEN', `"${host}" is already verified for another tenant`, { field: 'host' });
}

function domainNotFound(tenant: Tenant, host: string): never {
  throw new SchemataError('DOMAIN_NOT_FOUND', `tenant "${tenant.slug}" has no domain "${host}"`, { field: 'host' });
}
