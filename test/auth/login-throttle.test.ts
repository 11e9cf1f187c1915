import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/auth/login-throttle.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { serveOverHttp, startTestServer, type HttpTestClient, type TestServer } from '../helpers/test-server.js';

const LOGIN = 'mutation($email: EmailAddress!, $password: String!) { login(email: $email, password: $password) { user { email } } }';
const PASSWORD = 'alice has a long password';
const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => String(response.body.errors?.[0]?.extensions?.code ?? 'OK');

describe('the login throttle', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let tenant: Tenant;
  /** Statements that look a user up by email: login runs exactly one per password it checks. */
  let userLookups = 0;
  const servers: { server: TestServer; http?: HttpTestClient }[] = [];

  beforeAll(async () => {
    database = await openTestDatabase({ onQuery: (sql) => void (/from "users" where lower\(email\)/.test(sql) && userLookups++) });
    tenant = await seedTenant(database, await tenantTemplate(), 'throttle');
    const hash = await hashPassword(PASSWORD);
    await withTenantTransaction(database, tenant, {}, (db) =>
      db
        .insertInto('users')
        .values(['alice', 'bob', 'carol'].map((name) => ({ email: `${name}@throttle.example`, name, role: 'member' as const, password_hash: hash })))
        .execute(),
    );
  });
  afterAll(async () => {
    for (const { server, http } of servers) await http?.close(), await server.close();
    await database.close();
  });

  /** Behind one trusted proxy, so X-Forwarded-For names the client. */
  const serve = async (throttle: LoginThrottle) => {
    const server = await startTestServer({ database, yoga: { config: testConfig({ trustProxy: 1 }), loginThrottle: throttle } });
    const http = await serveOverHttp(server);
    servers.push({ server, http });
    return http;
  };

  it("a stranger's failures lock out only the stranger's address: alice still signs in from hers", async () => {
    const http = await serve(new LoginThrottle());
    const login = (from: string, password: string) => http.graphql(tenant.slug, LOGIN, { email: 'alice@throttle.example', password }, { from });
    const stranger: string[] = [];
    // Two addresses of one IPv6 /64 count as one.
    for (let i = 0; i < 8; i++) stranger.push(codeOf(await login(`2001:db8:5:6::${i + 1}`, `guess ${i}`)));
    expect(stranger).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), ...Array(3).fill('TOO_MANY_ATTEMPTS')]);
    expect(codeOf(await login('2001:db8:5:6::99', PASSWORD))).toBe('TOO_MANY_ATTEMPTS');

    const alice = await login('198.51.100.7', PASSWORD);
    expect(codeOf(alice)).toBe('OK');
    expect(alice.body.data).toEqual({ login: { user: { email: 'alice@throttle.example' } } });
  });

  it('the per-account ceiling stops an attack spread over many addresses', async () => {
    const http = await serve(new LoginThrottle({ maxFailures: 5, maxAccountFailures: 12 }));
    const login = (from: string, password: string) => http.graphql(tenant.slug, LOGIN, { email: 'bob@throttle.example', password }, { from });
    const codes: string[] = [];
    for (let address = 1; address <= 4; address++) {
      for (let i = 0; i < 4; i++) codes.push(codeOf(await login(`203.0.113.${address}`, `guess ${i}`)));
    }
    expect(codes).toEqual([...Array(12).fill('INVALID_CREDENTIALS'), ...Array(4).fill('TOO_MANY_ATTEMPTS')]);
    // Now the account is closed everywhere, even to the right password from a fresh address.
    expect(codeOf(await login('192.0.2.50', PASSWORD))).toBe('TOO_MANY_ATTEMPTS');
  });

  it('40 concurrent wrong passwords get exactly 5 password checks', async () => {
    const server = await startTestServer({ database, yoga: { loginThrottle: new LoginThrottle() } });
    servers.push({ server });
    const before = userLookups;
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => server.graphql(tenant.slug, LOGIN, { email: 'carol@throttle.example', password: `guess ${i}` }, { as: null })),
    );
    const codes = responses.map(codeOf);
    expect(codes.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(codes.filter((code) => code === 'TOO_MANY_ATTEMPTS')).toHaveLength(35);
    expect(userLookups - before).toBe(5);
  });
});
