import { isPlatformHost, normalizeDomain, parseHost, type PlatformHosts } from '../control/registry/domain-name.js';
import { isReservedSlug, SLUG_MAX_LENGTH } from '../control/registry/slug.js';
import type { TenantRegistry } from '../control/registry/tenant-registry.js';
import type { Tenant } from '../db/control-database.js';
import { isUuid } from '../db/identifiers.js';
import { SchemataError } from '../errors.js';

/** Where a request may name its tenant. Every source present must name the same tenant. */
export interface TenantSources {
  /** `X-Tenant-ID`: a slug or a tenant id. */
  readonly header?: string | null | undefined;
  /** The first label of a host under the base domain: `acme.localhost:4000`. */
  readonly subdomain?: string | undefined;
  /** `/t/<slug>/graphql`. */
  readonly path?: string | undefined;
  /**
   * A Host that is none of the platform's own (not under the base domain, not
   * a server host, an IP or a single label like localhost): normalised, or as
   * sent when it is no valid host name. It names a tenant only when it is a
   * verified custom domain; otherwise it counts only when nothing else names one.
   */
  readonly domain?: string | undefined;
}

type TenantSourceKind = keyof TenantSources;

/** How errors name each source; behaviour branches on the kind, never on this text. */
const SOURCE_LABEL: Readonly<Record<TenantSourceKind, string>> = {
  header: 'the X-Tenant-ID header',
  subdomain: 'the subdomain',
  path: 'the /t/<slug>/ path',
  domain: 'the Host header',
};

const SLUG_SHAPE = new RegExp(`^[a-z][a-z0-9_]{1,${SLUG_MAX_LENGTH - 1}}$`);
const PATH_TENANT = /^\/t\/([^/]*)\/graphql\/?$/;

/** Reads the candidate sources off a request; validation happens in `resolveTenant`. */
export function tenantSources(request: Request, platform: PlatformHosts): TenantSources {
  const url = new URL(request.url);
  const path = PATH_TENANT.exec(url.pathname)?.[1];
  return { header: request.headers.get('x-tenant-id'), ...hostSource(request.headers.get('host') ?? url.host, platform), path: path === undefined ? undefined : decodePathSegment(path) };
}

/** `<slug>.<baseDomain>` names a tenant by subdomain; any other multi-label name that is not the server's own may be a custom domain. */
function hostSource(sent: string, platform: PlatformHosts): Pick<TenantSources, 'subdomain' | 'domain'> {
  const parsed = parseHost(sent, { port: 'strip' });
  if (parsed.kind === 'ip') return {};
  // Not a host name at all (xn--zz.example): resolveTenant refuses it with INVALID_DOMAIN when nothing else names a tenant.
  if (parsed.kind === 'invalid') return { domain: sent };
  const { host } = parsed;
  const suffix = `.${platform.baseDomain.toLowerCase()}`;
  if (platform.baseDomain !== '' && host.endsWith(suffix)) {
    const label = host.slice(0, -suffix.length);
    return isReservedSlug(label) ? {} : { subdomain: label };
  }
  return !host.includes('.') || isPlatformHost(host, platform) ? {} : { domain: host };
}

/** An undecodable segment (`%E0%A4`) stays as sent: it is no slug, so `resolveTenant` refuses it with INVALID_TENANT_ID. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Fails closed: no source → 400, a malformed one → 400, sources that name
 * different tenants → 400, unknown or deleted → 404, suspended → 403. The
 * tenant always comes from the registry; request text only selects it. Errors
 * never describe a tenant other than the one the caller named. `client` (the
 * caller's address) spends the registry's budget for unknown names.
 *
 * A Host that is a verified custom domain is a source like the others. One
 * that is not (a load balancer's or a cluster's own name nobody listed in
 * SERVER_HOSTS, an unverified claim) is ignored when another source names the
 * tenant, and is 404 only when it is all the request has.
 */
export async function resolveTenant(sources: TenantSources, registry: TenantRegistry, client?: string): Promise<Tenant> {
  const named: { kind: TenantSourceKind; value: string }[] = [];
  if (sources.header != null) named.push({ kind: 'header', value: sources.header.trim() });
  if (sources.subdomain !== undefined) named.push({ kind: 'subdomain', value: sources.subdomain });
  if (sources.path !== undefined) named.push({ kind: 'path', value: sources.path });
  const served = sources.domain === undefined ? undefined : await tenantAtHost(sources.domain, registry, client, named.length === 0);
  if (served) named.push({ kind: 'domain', value: served.host });
  if (named.length === 0) {
    throw new SchemataError('TENANT_REQUIRED', 'no tenant given: send an X-Tenant-ID header, use a tenant subdomain, or the /t/<slug>/graphql path');
  }

  const tenants: Tenant[] = [];
  for (const { kind, value } of named) {
    if (kind === 'domain') {
      tenants.push(served!.tenant);
      continue;
    }
    // Only the header may carry a tenant id; subdomains and paths are slugs.
    const mayBeId = kind === 'header';
    const isId = mayBeId && isUuid(value.toLowerCase());
    const source = SOURCE_LABEL[kind];
    if (!isId && !SLUG_SHAPE.test(value)) {
      // Acme for acme is the mistake people make: say so, rather than only "not valid". The hint echoes nothing else of the input.
      const lowercase = SLUG_SHAPE.test(value.toLowerCase()) ? `: slugs are lowercase (did you mean "${value.toLowerCase()}"?)` : '';
      throw new SchemataError('INVALID_TENANT_ID', `${source} is not a valid tenant slug${mayBeId ? ' or id' : ''}${lowercase}`);
    }
    const tenant = isId ? await registry.findById(value.toLowerCase(), client) : await registry.findBySlug(value, client);
    if (!tenant || tenant.status === 'deleted') {
      throw new SchemataError('TENANT_NOT_FOUND', `unknown tenant "${value}" (from ${source})`);
    }
    tenants.push(tenant);
  }
  const [tenant] = tenants as [Tenant, ...Tenant[]];
  if (tenants.some((t) => t.id !== tenant.id)) {
    throw new SchemataError('TENANT_MISMATCH', `the tenant sources disagree: ${named.map((n) => `${SOURCE_LABEL[n.kind]} says "${n.value}"`).join(', ')}`);
  }
  if (tenant.status === 'suspended') throw new SchemataError('TENANT_SUSPENDED', `tenant "${named[0]!.value}" is suspended`);
  return tenant;
}

/**
 * The tenant a Host serves as a verified custom domain, with the host
 * normalised. Any other Host is no source: undefined, unless it is all the
 * request has (`alone`), when it is refused: 400 INVALID_DOMAIN when it is no
 * host name, else 404 TENANT_NOT_FOUND.
 */
async function tenantAtHost(sent: string, registry: TenantRegistry, client: string | undefined, alone: boolean): Promise<{ host: string; tenant: Tenant } | undefined> {
  let host: string;
  try {
    host = normalizeDomain(sent, { port: 'strip' });
  } catch (error) {
    // INVALID_DOMAIN, naming the problem; no verified domain is malformed, so beside another source it is just ignored.
    if (alone) throw error;
    return undefined;
  }
  // Still one cached, budgeted lookup per host: a Host nobody registered costs what an unknown slug costs.
  const tenant = await registry.findByHost(host, client);
  if (tenant && tenant.status !== 'deleted') return { host, tenant };
  // Unknown and not yet verified read the same: a caller learns nothing about the registry.
  if (alone) throw new SchemataError('TENANT_NOT_FOUND', `no tenant is served at "${host}" (from ${SOURCE_LABEL.domain})`);
  return undefined;
}
