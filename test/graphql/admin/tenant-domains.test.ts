import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantDomain } from '../../../src/control/registry/tenant-domain.repository.js';
import { VERIFICATION_PATH } from '../../../src/control/tenants/domain-verification.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { startCustomerSite, uniqueHost, type CustomerSite } from '../../helpers/customer-site.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

const DOMAIN = 'host unicodeHost verified verifiedAt verificationToken verificationUrl';

type Domain = { host: string; unicodeHost: string; verified: boolean; verifiedAt: string | null; verificationToken: string; verificationUrl: string };

describe('custom domains in the admin API', () => {
  let database: Database;
  let site: CustomerSite;
  let server: AdminTestServer;
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    site = await startCustomerSite();
    // The verifier reaches the local "customer site" while asking for the domain by name.
    server = await startAdminTestServer(database, { config: { domainVerificationConnectTo: site.connectTo } });
    const template = await tenantTemplate();
    [acme, globex] = await Promise.all([seedTenant(database, template, 'adm_dom_a'), seedTenant(database, template, 'adm_dom_g')]);
  });
  afterAll(async () => {
    await site.close();
    await database.close();
  });

  const mutate = (name: 'addTenantDomain' | 'verifyTenantDomain' | 'removeTenantDomain', slug: string, host: string) =>
    server.admin<Record<string, Domain>>(`mutation ($slug: String!, $host: String!) { ${name}(slug: $slug, host: $host) { ${DOMAIN} } }`, { slug, host });

  it('add, list on the tenant, verify and remove', async () => {
    const host = uniqueHost('admin');
    const idn = `BÜCHER.${host}`;
    const added = (await mutate('addTenantDomain', acme.slug, idn)).body.data!.addTenantDomain!;
    expect(added).toMatchObject({ host: `xn--bcher-kva.${host}`, unicodeHost: `bücher.${host}`, verified: false, verifiedAt: null });
    expect(added.verificationUrl).toBe(`http://xn--bcher-kva.${host}${VERIFICATION_PATH}${added.verificationToken}`);
    await mutate('addTenantDomain', acme.slug, host);

    const listed = await server.admin<{ tenants: { slug: string; domains: { host: string }[] }[] }>(`{ tenants(search: "adm_dom_", first: 500) { slug domains { host } } }`);
    const domainsOf = (slug: string) => listed.body.data!.tenants.find((t) => t.slug === slug)?.domains.map((d) => d.host);
    expect(domainsOf(acme.slug)).toEqual([host, `xn--bcher-kva.${host}`]);
    expect(domainsOf(globex.slug)).toEqual([]);

    site.pages.set(`${VERIFICATION_PATH}${added.verificationToken}`, { status: 200, body: added.verificationToken });
    const verified = (await mutate('verifyTenantDomain', acme.slug, `bücher.${host}`)).body.data!.verifyTenantDomain!;
    expect(verified).toMatchObject({ verified: true, verifiedAt: expect.any(String) });
    expect(site.requests.at(-1)?.host).toBe(`xn--bcher-kva.${host}`);

    expect((await mutate('removeTenantDomain', acme.slug, host)).body.data!.removeTenantDomain!.host).toBe(host);
    expect(await findTenantDomain(database.control, acme.id, host)).toBeUndefined();
  });

  it('refusals carry their codes: taken, invalid, not found, and each way a verification fails', async () => {
    const host = uniqueHost('admin-err');
    const added = (await mutate('addTenantDomain', acme.slug, host)).body.data!.addTenantDomain!;
    const error = async (name: Parameters<typeof mutate>[0], slug: string, input: string) => {
      const response = await mutate(name, slug, input);
      return [response.body.data, response.body.errors?.[0]?.extensions?.code, response.body.errors?.[0]?.message];
    };
    // Another tenant's claim holds nothing; a verified host does.
    const taken = uniqueHost('admin-taken');
    const owned = (await mutate('addTenantDomain', acme.slug, taken)).body.data!.addTenantDomain!;
    site.pages.set(`${VERIFICATION_PATH}${owned.verificationToken}`, { status: 200, body: owned.verificationToken });
    expect((await mutate('verifyTenantDomain', acme.slug, taken)).body.data!.verifyTenantDomain!.verified).toBe(true);
    expect(await error('addTenantDomain', globex.slug, taken.toUpperCase())).toEqual([null, 'DOMAIN_TAKEN', `"${taken}" is already verified for another tenant`]);
    expect(await error('addTenantDomain', globex.slug, 'shop.localhost')).toEqual([null, 'INVALID_DOMAIN', expect.stringContaining('not a custom domain')]);
    expect(await error('addTenantDomain', globex.slug, `${host}:8080`)).toEqual([null, 'INVALID_DOMAIN', `invalid domain "${host}:8080": a domain has no port: leave out ":8080"`]);
    expect(await error('removeTenantDomain', globex.slug, host)).toEqual([null, 'DOMAIN_NOT_FOUND', `tenant "${globex.slug}" has no domain "${host}"`]);

    const page = `${VERIFICATION_PATH}${added.verificationToken}`;
    expect(await error('verifyTenantDomain', acme.slug, host)).toEqual([null, 'DOMAIN_TOKEN_NOT_SERVED', `domain "${host}" is not verified: http://${host}${page} answered HTTP 404, not 200`]);
    site.pages.set(page, { status: 200, body: 'not the token' });
    expect(await error('verifyTenantDomain', acme.slug, host)).toEqual([null, 'DOMAIN_TOKEN_MISMATCH', expect.stringContaining("is not this domain's token")]);
    expect((await findTenantDomain(database.control, acme.id, host))?.verified_at).toBeNull();
  });
});
