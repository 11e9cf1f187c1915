import { issueAccessToken } from '../auth/access-token.js';
import type { TenantKeyStore } from '../auth/tenant-keys.js';
import type { Config } from '../config.js';
import type { TenantRegistry } from '../control/registry/tenant-registry.js';

/** The tenant the development GraphiQL page names by default: the seed's demo tenant. */
export const GRAPHIQL_DEMO_TENANT = 'acme';

/** Long enough to explore, short enough that a copied page is soon worthless. */
const DEMO_TOKEN_TTL_SECONDS = 3_600;

/**
 * Development only (the caller never asks in production, nor for a client
 * that is not on this machine): a viewer token for the demo tenant,
 * prefilled in GraphiQL's headers, so a newcomer's first Run answers instead
 * of UNAUTHENTICATED. A viewer reads and cannot write; no other tenant's
 * page gets one. Undefined when the demo tenant is missing,
 * not active, or has no key.
 */
export async function graphiqlDemoToken(services: { config: Config; registry: TenantRegistry; keys: TenantKeyStore }): Promise<string | undefined> {
  try {
    const tenant = await services.registry.findBySlug(GRAPHIQL_DEMO_TENANT);
    if (!tenant || tenant.status !== 'active') return undefined;
    const keys = await services.keys.forTenant(tenant.id);
    if (!keys) return undefined;
    const claims = { subject: 'graphiql-demo', role: 'viewer' as const, tenantId: tenant.id };
    return (await issueAccessToken(keys, claims, services.config, DEMO_TOKEN_TTL_SECONDS)).token;
  } catch {
    return undefined;
  }
}
