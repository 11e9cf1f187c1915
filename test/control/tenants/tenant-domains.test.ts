import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantDomain, listTenantDomains, markTenantDomainVerified } from '../../../src/control/registry/tenant-domain.repository.js';
import type { TenantChange } from '../../../src/control/registry/tenant-cache.js';
import { VERIFICATION_PATH } from '../../../src/control/tenants/domain-verification.js';
import { addTenantDomain, listDomainsOfTenant, removeTenantDomain, verifyTenantDomain } from '../../../src/control/tenants/tenant-domain.service.js';
import { softDeleteTenant } from '../../../src/control/tenants/tenant-lifecycle.service.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { eventually } from '../../helpers/eventually.js';
import { startCustomerSite, uniqueHost, type CustomerSite } from '../../helpers/customer-site.js';
import { listen } from '../../helpers/migration-steps.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

const PLATFORM = { baseDomain: 'schemata.example', serverHosts: ['lb.internal.example'] };

describe('custom domains of tenants', () => {
  let database: Database;
  let site: CustomerSite;
  let acme: Tenant;
  let globex: Tenant;
  let dom3: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    site = await startCustomerSite();
    const template = await tenantTemplate();
    [acme, globex, dom3] = await Promise.all([seedTenant(database, template, 'dom_a'), seedTenant(database, template, 'dom_g'), seedTenant(database, template, 'dom_3')]);
  });
  afterAll(async () => {
    await site.close();
    await database.close();
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
    );
  const tokenOf = async (host: string, tenant = acme) => (await findTenantDomain(database.control, tenant.id, host))!.verification_token;
  /** Adds the host to the tenant, serves its token at the customer site and verifies it. */
  const verifiedDomain = async (tenant: Tenant, host: string) => {
    const { verification_token: token } = await addTenantDomain(database, PLATFORM, tenant.slug, host);
    site.pages.set(`${VERIFICATION_PATH}${token}`, { status: 200, body: token });
    return verifyTenantDomain(database, tenant.slug, host, { connectTo: site.connectTo });
  };

  it('adds a host normalised and unverified, with a token of 256 bits, and lists it', async () => {
    const host = uniqueHost('events');
    const added = await addTenantDomain(database, PLATFORM, acme.slug, `  ${host.toUpperCase()}.`);
    expect(added).toMatchObject({ host, tenant_id: acme.id, verified_at: null });
    expect(added.verification_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await addTenantDomain(database, PLATFORM, acme.slug, `BÜCHER.${host}`)).host).toBe(`xn--bcher-kva.${host}`);
    const { domains } = await listDomainsOfTenant(database, acme.slug);
    expect(domains.map((d) => d.host)).toContain(host);
    expect((await listDomainsOfTenant(database, globex.slug)).domains).toEqual([]);
  });

  it('a host another tenant has verified is DOMAIN_TAKEN in any of its spellings, and nothing is written', async () => {
    const host = uniqueHost('shop');
    const idn = `bücher.${host}`;
    const idnAscii = `xn--bcher-kva.${host}`;
    await verifiedDomain(acme, host);
    await verifiedDomain(acme, idn);
    for (const claim of [host, host.toUpperCase(), `${host}.`, idn, idnAscii, idn.toUpperCase()]) {
      expect(await refusal(addTenantDomain(database, PLATFORM, globex.slug, claim)), claim).toEqual({
        code: 'DOMAIN_TAKEN',
        message: expect.stringMatching(/is already verified for another tenant$/),
      });
    }
    expect(await listTenantDomains(database.control, globex.id)).toEqual([]);
    expect(await refusal(addTenantDomain(database, PLATFORM, acme.slug, host))).toEqual({ code: 'DOMAIN_TAKEN', message: `"${host}" is already a domain of tenant "${acme.slug}"` });
  });

  it('an unverified claim holds nothing: another tenant may claim the host too, and the one that verifies it removes the other claims', async () => {
    const host = uniqueHost('squat');
    // The registry's channel, as every server hears it.
    const channel = await listen(database.sessionUrl, 'schemata_tenant_changed');
    try {
      const squatter = await addTenantDomain(database, PLATFORM, globex.slug, host);
      // Claims race and both stand: neither proves anything yet.
      const raced = await Promise.all([addTenantDomain(database, PLATFORM, acme.slug, host), addTenantDomain(database, PLATFORM, dom3.slug, host)]);
      expect(raced.map((claim) => claim.tenant_id).sort()).toEqual([acme.id, dom3.id].sort());
      expect(new Set([squatter, ...raced].map((claim) => claim.verification_token)).size).toBe(3);

      // The squatter cannot serve acme's token at the host; acme can.
      site.pages.set(`${VERIFICATION_PATH}${raced[0].verification_token}`, { status: 200, body: raced[0].verification_token });
      expect((await verifyTenantDomain(database, acme.slug, host, { connectTo: site.connectTo })).verified_at).toBeInstanceOf(Date);
      expect(await findTenantDomain(database.control, globex.id, host)).toBeUndefined();
      expect(await findTenantDomain(database.control, dom3.id, host)).toBeUndefined();
      expect(await listTenantDomains(database.control, globex.id)).toEqual([]);
      // Each removed claim told the servers, naming its tenant and the host.
      const heard = ((await channel.drain()) as TenantChange[]).filter((change) => change.hosts?.includes(host));
      expect(heard.filter((change) => change.hosts?.[0] === null).map((change) => change.id).sort()).toEqual([globex.id, dom3.id].sort());
      expect(heard.filter((change) => change.hosts?.[0] === host && change.hosts[1] === host).map((change) => change.id)).toEqual([acme.id]);

      // Now it is held: a new claim is DOMAIN_TAKEN, and so is a check of a claim that slipped in before.
      expect(await refusal(addTenantDomain(database, PLATFORM, globex.slug, host))).toEqual({ code: 'DOMAIN_TAKEN', message: `"${host}" is already verified for another tenant` });
      await database.control.insertInto('control.tenant_domains').values({ host, tenant_id: globex.id, verification_token: squatter.verification_token }).execute();
      site.pages.set(`${VERIFICATION_PATH}${squatter.verification_token}`, { status: 200, body: squatter.verification_token });
      expect(await refusal(verifyTenantDomain(database, globex.slug, host, { connectTo: site.connectTo }))).toEqual({ code: 'DOMAIN_TAKEN', message: `"${host}" is already verified for another tenant` });
      // The same race one step later, past the service's look: the unique index on verified hosts has the last word.
      const raceLost = await database.control.transaction().execute((trx) => markTenantDomainVerified(trx, { tenantId: globex.id, host, token: squatter.verification_token }));
      expect(raceLost).toBe('taken');
      expect((await findTenantDomain(database.control, globex.id, host))?.verified_at).toBeNull();
      expect((await findTenantDomain(database.control, acme.id, host))?.verified_at).toBeInstanceOf(Date);
    } finally {
      await channel.close();
    }
  });

  it("refuses the platform's own hosts, malformed hosts and unknown or deleted tenants, writing nothing", async () => {
    for (const own of ['schemata.example', 'acme.schemata.example', 'LB.internal.example.']) {
      expect(await refusal(addTenantDomain(database, PLATFORM, acme.slug, own)), own).toMatchObject({ code: 'INVALID_DOMAIN', message: expect.stringContaining('not a custom domain') });
    }
    expect(await refusal(addTenantDomain(database, PLATFORM, acme.slug, 'events.customer.example:8080'))).toMatchObject({ code: 'INVALID_DOMAIN' });
    expect(await refusal(addTenantDomain(database, PLATFORM, acme.slug, '10.0.0.1'))).toMatchObject({ code: 'INVALID_DOMAIN' });
    expect(await refusal(addTenantDomain(database, PLATFORM, 'no_such_tenant', uniqueHost('x')))).toMatchObject({ code: 'TENANT_NOT_FOUND' });
    const gone = await seedTenant(database, await tenantTemplate(), 'dom_d');
    await softDeleteTenant(database, gone.slug);
    expect(await refusal(addTenantDomain(database, PLATFORM, gone.slug, uniqueHost('x')))).toMatchObject({ code: 'TENANT_DELETED' });
    expect(await listTenantDomains(database.control, gone.id)).toEqual([]);
  });

  it('verifies a domain whose host serves the token, asking for it with the domain as Host', async () => {
    const host = uniqueHost('verify');
    const added = await addTenantDomain(database, PLATFORM, acme.slug, host);
    site.pages.set(`${VERIFICATION_PATH}${added.verification_token}`, { status: 200, body: `${added.verification_token}\n` });
    const verified = await verifyTenantDomain(database, acme.slug, host.toUpperCase(), { connectTo: site.connectTo });
    expect(verified.verified_at).toBeInstanceOf(Date);
    expect(site.requests.at(-1)).toEqual({ host, path: `${VERIFICATION_PATH}${added.verification_token}` });
    // Another tenant cannot verify (or learn about) it.
    expect(await refusal(verifyTenantDomain(database, globex.slug, host, { connectTo: site.connectTo }))).toEqual({
      code: 'DOMAIN_NOT_FOUND',
      message: `tenant "${globex.slug}" has no domain "${host}"`,
    });
  });

  it('a failed check says why with its own code and changes nothing', async () => {
    const host = uniqueHost('fail');
    await addTenantDomain(database, PLATFORM, acme.slug, host);
    const token = await tokenOf(host);
    const page = `${VERIFICATION_PATH}${token}`;
    const verify = (options = {}) => refusal(verifyTenantDomain(database, acme.slug, host, { connectTo: site.connectTo, ...options }));

    expect(await verify()).toEqual({ code: 'DOMAIN_TOKEN_NOT_SERVED', message: `domain "${host}" is not verified: http://${host}${page} answered HTTP 404, not 200` });
    site.pages.set(page, { status: 301, headers: { location: `http://127.0.0.1:${site.connectTo.port}/elsewhere` } });
    site.pages.set('/elsewhere', { status: 200, body: token });
    expect(await verify()).toMatchObject({ code: 'DOMAIN_TOKEN_NOT_SERVED', message: expect.stringContaining('answered HTTP 301 (a redirect, which is not followed') });
    expect(site.requests.filter((r) => r.path === '/elsewhere')).toEqual([]);
    site.pages.set(page, { status: 200, body: 'someone-elses-token' });
    expect(await verify()).toEqual({ code: 'DOMAIN_TOKEN_MISMATCH', message: `domain "${host}" is not verified: http://${host}${page} answered 200, but its body (19 bytes) is not this domain's token` });
    site.pages.set(page, { status: 200, body: token.repeat(100) });
    expect(await verify()).toMatchObject({ code: 'DOMAIN_TOKEN_MISMATCH', message: expect.stringContaining('more than 1024 bytes') });
    site.pages.set(page, 'hang');
    expect(await verify({ timeoutMs: 300 })).toEqual({ code: 'DOMAIN_UNREACHABLE', message: `domain "${host}" is not verified: no complete answer within 0.3 s` });
    const closed = await startCustomerSite();
    await closed.close();
    expect(await verify({ connectTo: closed.connectTo })).toEqual({
      code: 'DOMAIN_UNREACHABLE',
      message: `domain "${host}" is not verified: ${host} refused the connection on port ${closed.connectTo.port}`,
    });
    // Without a connectTo the check asks DNS, which knows no .example name.
    expect(await verify({ connectTo: undefined })).toMatchObject({ code: 'DOMAIN_UNREACHABLE', message: expect.stringContaining(`no address found for ${host}`) });

    expect((await findTenantDomain(database.control, acme.id, host))?.verified_at).toBeNull();
  });

  it('never connects to a non-public address unless told where to connect, and tells nothing of what answers there', async () => {
    const host = uniqueHost('internal');
    await addTenantDomain(database, PLATFORM, acme.slug, host);
    const token = await tokenOf(host);
    // What a squatter would point its name at: this machine, the private network, the cloud's metadata service.
    const internal = ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe'];
    for (const address of internal) {
      // Only the lookup is replaced; the address check and the connection are the real ones.
      const resolve = async () => [{ address, family: address.includes(':') ? 6 : 4 }];
      expect(await refusal(verifyTenantDomain(database, acme.slug, host, { resolve })), address).toEqual({
        code: 'DOMAIN_UNREACHABLE',
        message: `domain "${host}" is not verified: ${host} resolves to a non-public address (loopback, private, link-local or reserved); the check connects only to public addresses`,
      });
    }
    // One internal address among public ones refuses them all (no racing the connection for the good one).
    const mixed = async () => [{ address: '198.51.100.7', family: 4 }, { address: '127.0.0.1', family: 4 }];
    expect(await refusal(verifyTenantDomain(database, acme.slug, host, { resolve: mixed }))).toMatchObject({ code: 'DOMAIN_UNREACHABLE', message: expect.stringContaining('non-public address') });
    // Control: a public address is tried (what answers there, if anything, depends on the network this runs in).
    const documentation = async () => [{ address: '203.0.113.9', family: 4 }];
    const tried = await refusal(verifyTenantDomain(database, acme.slug, host, { resolve: documentation, timeoutMs: 300 }));
    expect(['DOMAIN_UNREACHABLE', 'DOMAIN_TOKEN_NOT_SERVED', 'DOMAIN_TOKEN_MISMATCH']).toContain(tried?.code);
    expect(tried?.message).not.toContain('non-public');
    expect((await findTenantDomain(database.control, acme.id, host))?.verified_at).toBeNull();
    // Only connectTo (DOMAIN_VERIFICATION_CONNECT_TO, never in production) reaches a site on 127.0.0.1.
    site.pages.set(`${VERIFICATION_PATH}${token}`, { status: 200, body: token });
    expect((await verifyTenantDomain(database, acme.slug, host, { connectTo: site.connectTo })).verified_at).toBeInstanceOf(Date);
  });

  it('removes a domain of its own tenant only, and the host is free again', async () => {
    const host = uniqueHost('remove');
    await addTenantDomain(database, PLATFORM, acme.slug, host);
    expect(await refusal(removeTenantDomain(database, globex.slug, host))).toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
    expect((await removeTenantDomain(database, acme.slug, `${host}.`)).host).toBe(host);
    expect(await findTenantDomain(database.control, acme.id, host)).toBeUndefined();
    expect((await addTenantDomain(database, PLATFORM, globex.slug, host)).tenant_id).toBe(globex.id);
    expect(await refusal(removeTenantDomain(database, acme.slug, host))).toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
  });

  it('a domain removed and added again while its check ran is not marked verified by the old token', async () => {
    const host = uniqueHost('swap');
    const first = await addTenantDomain(database, PLATFORM, acme.slug, host);
    const page = `${VERIFICATION_PATH}${first.verification_token}`;
    let swapped!: () => void;
    // The site serves the old token, but only once the domain was removed and added again (with a new token).
    site.pages.set(page, { status: 200, body: first.verification_token, after: new Promise<void>((resolve) => (swapped = resolve)) });
    const verifying = refusal(verifyTenantDomain(database, acme.slug, host, { connectTo: site.connectTo }));
    expect(await eventually(async () => site.requests.some((r) => r.path === page), (seen) => seen)).toBe(true);
    await removeTenantDomain(database, acme.slug, host);
    const second = await addTenantDomain(database, PLATFORM, acme.slug, host);
    swapped();
    expect(await verifying).toEqual({ code: 'DOMAIN_NOT_FOUND', message: `tenant "${acme.slug}" has no domain "${host}"` });
    expect(await findTenantDomain(database.control, acme.id, host)).toMatchObject({ verification_token: second.verification_token, verified_at: null });
  });
});
