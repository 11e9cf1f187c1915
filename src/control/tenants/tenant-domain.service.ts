import { randomSecret } from '../../auth/random-secret.js';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { SchemataError } from '../../errors.js';
import { isPlatformHost, normalizeDomain, type PlatformHosts } from '../registry/domain-name.js';
import {
  deleteTenantDomain,
  findTenantDomain,
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
 * server's cache through the trigger of control migration 0009.
 */

/**
 * Adds `hostInput` (normalised: `Events.Customer.Example.` is
 * `events.customer.example`) to the tenant, unverified. A host another
 * tenant holds, or the tenant itself, is DOMAIN_TAKEN and nothing changes;
 * one of the platform's own is INVALID_DOMAIN.
 */
export async function addTenantDomain(database: Database, platform: PlatformHosts, slug: string, hostInput: unknown): Promise<TenantDomain> {
  const host = normalizeDomain(hostInput);
  if (isPlatformHost(host, platform)) {
    const own = platform.baseDomain === '' ? 'one of the server\'s own names (SERVER_HOSTS)' : `the platform's (${platform.baseDomain}, its subdomains, or SERVER_HOSTS)`;
    throw new SchemataError('INVALID_DOMAIN', `invalid domain "${host}": it is ${own}, not a custom domain`, { field: 'host' });
  }
  const tenant = await liveTenant(database, slug, 'add a domain to');
  const inserted = await insertTenantDomain(database.control, { host, tenantId: tenant.id, token: randomSecret() });
  if (inserted) return inserted;
  const holder = await findTenantDomain(database.control, host);
  throw new SchemataError(
    'DOMAIN_TAKEN',
    holder?.tenant_id === tenant.id ? `"${host}" is already a domain of tenant "${tenant.slug}"` : `"${host}" is already registered to another tenant`,
    { field: 'host' },
  );
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
 * it answers 200 with the token, marks the domain verified. A failure says
 * why with its code (DOMAIN_UNREACHABLE, DOMAIN_TOKEN_NOT_SERVED,
 * DOMAIN_TOKEN_MISMATCH) and changes nothing; a verified domain may be
 * checked again.
 */
export async function verifyTenantDomain(database: Database, slug: string, hostInput: unknown, options: DomainCheckOptions = {}): Promise<TenantDomain> {
  const host = normalizeDomain(hostInput);
  const tenant = await liveTenant(database, slug, 'verify a domain of');
  const domain = await findTenantDomain(database.control, host);
  if (!domain || domain.tenant_id !== tenant.id) return domainNotFound(tenant, host);
  const check = await checkDomainToken(host, domain.verification_token, options);
  if (!check.ok) throw new SchemataError(check.code, `domain "${host}" is not verified: ${check.reason}`, { field: 'host' });
  // Removed (or removed and added again, with a new token) while the check ran: what was checked is gone.
  return (await markTenantDomainVerified(database.control, host, domain.verification_token)) ?? domainNotFound(tenant, host);
}

/** A soft-deleted tenant keeps its domains (until purged) but gets no new ones. */
async function liveTenant(database: Database, slug: string, action: string): Promise<Tenant> {
  const tenant = await getTenant(database, slug);
  if (tenant.status === 'deleted') {
    throw new SchemataError('TENANT_DELETED', `cannot ${action} tenant "${tenant.slug}": it is deleted; restore it first`, { slug: tenant.slug });
  }
  return tenant;
}

function domainNotFound(tenant: Tenant, host: string): never {
  throw new SchemataError('DOMAIN_NOT_FOUND', `tenant "${tenant.slug}" has no domain "${host}"`, { field: 'host' });
}
