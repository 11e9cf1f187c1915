import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFICATION_PATH } from '../../src/control/tenants/domain-verification.js';
import { addTenantDomain, removeTenantDomain, verifyTenantDomain } from '../../src/control/tenants/tenant-domain.service.js';
import { purgeTenant, renameTenant, resumeTenant, softDeleteTenant, suspendTenant } from '../../src/control/tenants/tenant-lifecycle.service.js';
import { findTenantDomain } from '../../src/control/registry/tenant-domain.repository.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { listen, type RunningHttpServer } from '../../src/server/http/http-server.js';
import { nodeListener } from '../../src/server/http/node-listener.js';
import { startCustomerSite, uniqueHost, type CustomerSite } from '../helpers/customer-site.js';
import { eventually } from '../helpers/eventually.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/test-server.js';

const WHO = '{ tenant { slug } }';
const config = testConfig({ serverHosts: ['lb.internal.example'] });

describe('resolution by custom domain', () => {
  let server: TestServer;
  let socket: RunningHttpServer;
  let site: CustomerSite;
  /** Another pool: changes made there reach the server only through the registry's channel, as a CLI's would. */
  let other: Database;
  let acme: Tenant;
  let globex: Tenant;
  let acmeHost: string;
  let acmeIdn: string;
  let globexHost: string;
  /** Bearer headers per tenant id: resolution comes first, but the query itself needs a signed-in user. */
  const bearer: Record<string, Record<string, string>> = {};
  const controlStatements: string[] = [];

  /** Adds and verifies through the other pool. */
  const verifiedDomain = async (tenant: Tenant, host: string) => {
    const { verification_token: token } = await addTenantDomain(other, config, tenant.slug, host);
    site.pages.set(`${VERIFICATION_PATH}${token}`, { status: 200, body: token });
    return verifyTenantDomain(other, tenant.slug, host, { connectTo: site.connectTo });
  };

  beforeAll(async () => {
    // A "no such host" is remembered for a minute here: anything resolving sooner was told by the channel.
    server = await startTestServer({
      yoga: { config },
      registry: { missTtlMs: 60_000 },
      databaseOptions: { onQuery: (statement) => statement.includes('"control"') && controlStatements.push(statement) },
    });
    socket = await listen(nodeListener(server.yoga, () => undefined), 0);
    site = await startCustomerSite();
    other = await openTestDatabase();
    const template = await tenantTemplate();
    [acme, globex] = await Promise.all([seedTenant(server.database, template, 'cd_a'), seedTenant(server.database, template, 'cd_g')]);
    acmeHost = uniqueHost('events');
    acmeIdn = `bücher.${acmeHost}`;
    globexHost = uniqueHost('unverified');
    await verifiedDomain(acme, acmeHost);
    await verifiedDomain(acme, acmeIdn);
    await addTenantDomain(other, config, globex.slug, globexHost);
    for (const tenant of [acme, globex]) bearer[tenant.id] = { authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` };
  });
  afterAll(async () => {
    await socket.close({ graceMs: 0, timeoutMs: 1_000 });
    await site.close();
    await other.close();
    await server.close();
  });

  /** POSTs over a real socket with exactly this Host header, as a client (or an attacker) may send it. */
  const overSocket = (host: string, headers: Record<string, string> = {}, as: Tenant = acme) =>
    new Promise<GraphQLResponse>((resolve, reject) => {
      const body = JSON.stringify({ query: WHO });
      const request = http.request(
        { host: '127.0.0.1', port: socket.port, method: 'POST', path: '/graphql', headers: { host, 'content-type': 'application/json', ...bearer[as.id], ...headers }, agent: false },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text), text }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const byUrl = (url: string, tenant: string | null = null) => server.graphql(tenant, WHO, {}, { url, headers: bearer[acme.id] });
  const codeOf = (response: GraphQLResponse) => [response.status, response.body.errors?.[0]?.extensions?.code];

  it('a verified domain selects its tenant like a subdomain', async () => {
    expect((await byUrl(`http://${acmeHost}/graphql`)).body.data).toEqual({ tenant: { slug: acme.slug } });
    expect((await overSocket(acmeHost)).body.data).toEqual({ tenant: { slug: acme.slug } });
  });

  it('a port, any case, a trailing dot, and the Unicode or punycode form of the name reach the same tenant', async () => {
    for (const host of [`${acmeHost}:4000`, `${acmeHost.toUpperCase()}.`, `${acmeHost.toUpperCase()}.:80`, `xn--bcher-kva.${acmeHost}`, `XN--BCHER-KVA.${acmeHost}:4000`]) {
      expect((await overSocket(host)).body, host).toEqual({ data: { tenant: { slug: acme.slug } } });
    }
    // A Host header is ASCII on the wire (clients send the punycode form); the Unicode form arrives through a URL.
    for (const url of [`http://${acmeIdn}/graphql`, `http://BÜCHER.${acmeHost}:4000/graphql`]) {
      expect((await byUrl(url)).body.data, url).toEqual({ tenant: { slug: acme.slug } });
    }
  });

  it('another source must name the same tenant: a spoofed X-Tenant-ID is TENANT_MISMATCH', async () => {
    const spoofed = await overSocket(`${acmeHost}:4000`, { 'x-tenant-id': globex.slug });
    expect(codeOf(spoofed)).toEqual([400, 'TENANT_MISMATCH']);
    expect(spoofed.body.errors?.[0]?.message).toBe(`the tenant sources disagree: the X-Tenant-ID header says "${globex.slug}", the Host header says "${acmeHost}"`);
    expect(codeOf(await byUrl(`http://${acmeHost}/t/${globex.slug}/graphql`))).toEqual([400, 'TENANT_MISMATCH']);
    expect(codeOf(await byUrl(`http://${acmeHost}/graphql`, globex.id))).toEqual([400, 'TENANT_MISMATCH']);
    expect((await overSocket(acmeHost, { 'x-tenant-id': acme.id })).body.data).toEqual({ tenant: { slug: acme.slug } });
  });

  it('an unverified domain answers 404 exactly like one nobody registered', async () => {
    const unverified = await overSocket(globexHost);
    const unknown = await overSocket(uniqueHost('nobody'));
    expect(codeOf(unverified)).toEqual([404, 'TENANT_NOT_FOUND']);
    expect(codeOf(unknown)).toEqual([404, 'TENANT_NOT_FOUND']);
    expect(unverified.body.errors?.[0]?.message).toBe(`no tenant is served at "${globexHost}" (from the Host header)`);
    const nobody = uniqueHost('nobody');
    expect((await overSocket(nobody)).body.errors?.[0]?.message).toBe(`no tenant is served at "${nobody}" (from the Host header)`);
  });

  it('a Host that is no verified domain is ignored when another source names the tenant: a server reached by a name nobody listed keeps working', async () => {
    // Kubernetes and load-balancer names that SERVER_HOSTS does not list, an unverified claim, an unknown name, and one that is no host name at all.
    for (const host of ['schemata.default.svc.cluster.local', 'internal-lb-123.eu-west-1.elb.amazonaws.com:4000', globexHost, uniqueHost('nobody'), 'under_score.customer.example']) {
      expect((await overSocket(host, { 'x-tenant-id': acme.slug })).body, host).toEqual({ data: { tenant: { slug: acme.slug } } });
      expect((await overSocket(host, { 'x-tenant-id': acme.id })).body, host).toEqual({ data: { tenant: { slug: acme.slug } } });
    }
    // Whatever the unverified claim's tenant: the Host says nothing, so nothing disagrees.
    expect((await overSocket(globexHost, { 'x-tenant-id': globex.slug }, globex)).body).toEqual({ data: { tenant: { slug: globex.slug } } });
    const byPath = await server.graphql(null, WHO, {}, { url: `http://schemata.default.svc.cluster.local/t/${acme.slug}/graphql`, headers: bearer[acme.id] });
    expect(byPath.body).toEqual({ data: { tenant: { slug: acme.slug } } });
    // Alone, the same Hosts name nothing: 404 (or 400 for no host name), as before.
    expect(codeOf(await overSocket('schemata.default.svc.cluster.local'))).toEqual([404, 'TENANT_NOT_FOUND']);
    expect(codeOf(await overSocket('under_score.customer.example'))).toEqual([400, 'INVALID_DOMAIN']);
    // A verified domain still counts beside another source.
    expect(codeOf(await overSocket(acmeHost, { 'x-tenant-id': globex.slug }))).toEqual([400, 'TENANT_MISMATCH']);
  });

  it('a Host that is no host name is 400 INVALID_DOMAIN; the platform\'s own hosts and IPs are not custom domains', async () => {
    const invalid = await overSocket('under_score.customer.example');
    expect(codeOf(invalid)).toEqual([400, 'INVALID_DOMAIN']);
    expect(invalid.body.errors?.[0]?.message).toBe('invalid domain "under_score.customer.example": the label "under_score" must be 1 to 63 letters, digits and hyphens, neither starting nor ending with a hyphen');
    expect(codeOf(await overSocket(`ex%41mple.${acmeHost}`))).toEqual([400, 'INVALID_DOMAIN']);
    // node-listener refuses what does not even form a URL before any of this.
    expect(codeOf(await overSocket('xn--zz.customer.example'))).toEqual([400, 'BAD_REQUEST']);
    expect(codeOf(await overSocket(`${acmeHost}:99999`))).toEqual([400, 'BAD_REQUEST']);
    for (const host of ['lb.internal.example', 'LB.internal.example.:8080', '127.0.0.1:4000', '[::1]:4000', 'localhost', 'yoga']) {
      expect((await overSocket(host, { 'x-tenant-id': acme.slug })).body.data, host).toEqual({ tenant: { slug: acme.slug } });
    }
    // Subdomains of the base domain keep working, underscores in slugs included.
    expect((await overSocket(`${acme.slug}.LOCALHOST.:4000`)).body.data).toEqual({ tenant: { slug: acme.slug } });
  });

  it('verifying, removing and suspending reach the server through the registry channel, not a cache timeout', async () => {
    const late = uniqueHost('late');
    expect(codeOf(await overSocket(late))).toEqual([404, 'TENANT_NOT_FOUND']);
    await verifiedDomain(globex, late);
    const asGlobex = () => overSocket(late, {}, globex);
    expect((await eventually(asGlobex, (r) => r.status === 200, 3_000)).body.data).toEqual({ tenant: { slug: globex.slug } });

    await suspendTenant(other, globex.slug);
    expect(codeOf(await eventually(asGlobex, (r) => r.status !== 200))).toEqual([403, 'TENANT_SUSPENDED']);
    await resumeTenant(other, globex.slug);
    expect((await eventually(asGlobex, (r) => r.status === 200)).status).toBe(200);

    await removeTenantDomain(other, globex.slug, late);
    expect(codeOf(await eventually(asGlobex, (r) => r.status !== 200))).toEqual([404, 'TENANT_NOT_FOUND']);
  });

  it("a cached domain follows its tenant: a rename, a soft delete and a purge evict it by host on every server", async () => {
    const moving = await seedTenant(other, await tenantTemplate(), 'cd_m');
    bearer[moving.id] = { authorization: `Bearer ${await server.tokenFor(moving.slug, 'viewer')}` };
    const host = uniqueHost('moving');
    await verifiedDomain(moving, host);
    const ask = () => overSocket(host, {}, moving);
    expect((await eventually(ask, (r) => r.status === 200, 3_000)).body.data).toEqual({ tenant: { slug: moving.slug } });
    // Cached now: only the channel can change what this host answers (a miss is kept a minute, a hit for ever).
    const renamed = `${moving.slug}_r`;
    await renameTenant(other, moving.slug, { newSlug: renamed });
    expect((await eventually(ask, (r) => JSON.stringify(r.body.data) === JSON.stringify({ tenant: { slug: renamed } }))).body.data).toEqual({ tenant: { slug: renamed } });

    await softDeleteTenant(other, renamed);
    expect(codeOf(await eventually(ask, (r) => r.status !== 200))).toEqual([404, 'TENANT_NOT_FOUND']);
    await purgeTenant(other, renamed);
    expect(await findTenantDomain(other.control, moving.id, host)).toBeUndefined();
    expect(codeOf(await ask())).toEqual([404, 'TENANT_NOT_FOUND']);
    // The purge freed the name: another tenant's domain there resolves at once, the earlier answer forgotten.
    await verifiedDomain(globex, host);
    expect((await eventually(() => overSocket(host, {}, globex), (r) => r.status === 200, 3_000)).body.data).toEqual({ tenant: { slug: globex.slug } });
  });

  it('once cached, a custom domain costs no control-plane query', async () => {
    await overSocket(acmeHost);
    const before = controlStatements.length;
    for (const host of [acmeHost, `${acmeHost.toUpperCase()}:8443`, `${acmeHost}.`]) expect((await overSocket(host)).body.data).toEqual({ tenant: { slug: acme.slug } });
    expect(controlStatements.slice(before)).toEqual([]);
    // Control: a host not cached yet does reach the control plane, so the counter works.
    await overSocket(uniqueHost('uncached'));
    expect(controlStatements.slice(before).some((statement) => statement.includes('tenant_domains'))).toBe(true);
  });
});
