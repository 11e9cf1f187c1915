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
   * a server host, an IP or a single label like localhost): a custom domain,
   * normalised, or as sent when it is no valid host name.
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

/** `<slug>.<baseDomain>` names a tenant by subdomain; any other multi-label name that is not the server's own is a custom domain. */
function hostSource(sent: string, platform: PlatformHosts): Pick<TenantSources, 'subdomain' | 'domain'> {
  const parsed = parseHost(sent, { port: 'strip' });
  if (parsed.kind === 'ip') return {};
  // Not a host name at all (xn--zz.example): resolveTenant refuses it with INVALID_DOMAIN.
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
 */
export async function resolveTenant(sources: TenantSources, registry: TenantRegistry, client?: string): Promise<Tenant> {
  const named: { kind: TenantSourceKind; value: string }[] = [];
  if (sources.header != null) named.push({ kind: 'header', value: sources.header.trim() });
  if (sources.subdomain !== undefined) named.push({ kind: 'subdomain', value: sources.subdomain });
  if (sources.path !== undefined) named.push({ kind: 'path', value: sources.path });
  if (sources.domain !== undefined) named.push({ kind: 'domain', value: sources.domain });
  if (named.length === 0) {
    throw new SchemataError('TENANT_REQUIRED', 'no tenant given: send an X-Tenant-ID header, use a tenant subdomain, or the /t/<slug>/graphql path');
  }

  const tenants: Tenant[] = [];
  for (const { kind, value } of named) {
    if (kind === 'domain') {
      const host = normalizeDomain(value, { port: 'strip' });
      // Unknown and not yet verified read the same: a caller learns nothing about the registry.
      const tenant = await registry.findByHost(host, client);
      if (!tenant || tenant.status === 'deleted') throw new SchemataError('TENANT_NOT_FOUND', `no tenant is served at "${host}" (from ${SOURCE_LABEL[kind]})`);
      tenants.push(tenant);
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
