import DataLoader from 'dataloader';
import { domainToUnicode } from 'node:url';
import { listDomainsOfTenants, type TenantDomain } from '../../../control/registry/tenant-domain.repository.js';
import { verificationUrl } from '../../../control/tenants/domain-verification.js';
import { addTenantDomain, removeTenantDomain, verifyTenantDomain } from '../../../control/tenants/tenant-domain.service.js';
import { adminBuilder } from '../builder.js';
import type { AdminContext } from '../context.js';
import { AdminTenantRef } from './tenant.js';

const TenantDomainRef = adminBuilder.objectRef<TenantDomain>('TenantDomain').implement({
  description: 'A custom host that serves a tenant like its subdomain, once verified.',
  fields: (t) => ({
    host: t.exposeString('host', { description: 'Normalised: lowercase ASCII (IDNA), no port, no trailing dot.' }),
    unicodeHost: t.string({ description: 'The host as people read it (bücher.example for xn--bcher-kva.example).', resolve: (domain) => domainToUnicode(domain.host) }),
    verified: t.boolean({ description: 'Only a verified domain resolves requests; any other answers 404.', resolve: (domain) => domain.verified_at !== null }),
    verifiedAt: t.expose('verified_at', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
    verificationToken: t.exposeString('verification_token'),
    verificationUrl: t.string({
      description: 'Where the tenant serves verificationToken as the body (HTTP 200, no redirect) before verifyTenantDomain.',
      resolve: (domain) => verificationUrl(domain.host, domain.verification_token),
    }),
  }),
});

// One query for the domains of every tenant a request lists.
const loaders = new WeakMap<AdminContext, DataLoader<string, TenantDomain[]>>();
function domainsOf(context: AdminContext, tenantId: string): Promise<TenantDomain[]> {
  let loader = loaders.get(context);
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const domains = await listDomainsOfTenants(context.database.control, ids);
      return ids.map((id) => domains.filter((domain) => domain.tenant_id === id));
    });
    loaders.set(context, loader);
  }
  return loader.load(tenantId);
}

adminBuilder.objectField(AdminTenantRef, 'domains', (t) =>
  t.field({ type: [TenantDomainRef], description: 'Its custom domains, by host.', resolve: (tenant, _args, context) => domainsOf(context, tenant.id) }),
);

const domainArgs = (t: Parameters<Parameters<typeof adminBuilder.mutationFields>[0]>[0]) => ({
  slug: t.arg.string({ required: true }),
  host: t.arg.string({ required: true, description: 'Any case, Unicode or punycode, with or without a trailing dot.' }),
});

adminBuilder.mutationFields((t) => ({
  addTenantDomain: t.field({
    type: TenantDomainRef,
    description: 'Adds an unverified custom domain with a new verification token. A host another tenant has verified is DOMAIN_TAKEN; another tenant\'s unverified claim is no obstacle.',
    args: domainArgs(t),
    resolve: (_root, args, { database, config }) => addTenantDomain(database, config, args.slug, args.host),
  }),
  verifyTenantDomain: t.field({
    type: TenantDomainRef,
    description:
      'Fetches verificationUrl (5 s, no redirects, public addresses only) and marks the domain verified if the body is the token; other tenants\' claims on the host are removed. Fails with DOMAIN_UNREACHABLE, DOMAIN_TOKEN_NOT_SERVED, DOMAIN_TOKEN_MISMATCH or DOMAIN_TAKEN (verified for another tenant), changing nothing.',
    args: domainArgs(t),
    resolve: (_root, args, { database, config }) => verifyTenantDomain(database, args.slug, args.host, { connectTo: config.domainVerificationConnectTo }),
  }),
  removeTenantDomain: t.field({
    type: TenantDomainRef,
    description: 'Removes the domain; it stops serving the tenant on every server at once.',
    args: domainArgs(t),
    resolve: (_root, args, { database }) => removeTenantDomain(database, args.slug, args.host),
  }),
}));
