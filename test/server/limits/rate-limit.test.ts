import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { createTenantRateLimiter } from '../../../src/server/limits/tenant-rate-limiter.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

const READ = '{ projects { totalCount } }';

/** The machines run Redis on 127.0.0.1:6379; the shared-limit test needs it. */
const redisAnswers = await new Promise<boolean>((resolve) => {
  const socket = net.connect(6379, '127.0.0.1');
  socket.once('connect', () => (socket.destroy(), resolve(true)));
  socket.once('error', () => resolve(false));
});

describe('per-tenant rate limits', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    const template = await tenantTemplate();
    [a, b] = await Promise.all([seedTenant(database, template, 'rate_a'), seedTenant(database, template, 'rate_b')]);
  });
  afterAll(() => database.close());

  const withLimit = (perMinute: number, redisUrl?: string, keyPrefix = `test:${randomBytes(4).toString('hex')}`) =>
    createTenantRateLimiter({ requestsPerMinute: () => perMinute, redisUrl, keyPrefix });

  it('sends X-RateLimit-* on every response, and 429 RATE_LIMITED with Retry-After over the limit; other tenants are unaffected', async () => {
    const server: TestServer = await startTestServer({ database, yoga: { rateLimiter: withLimit(3) } });
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await server.fetch('http://yoga/graphql', await request(server, a));
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-limit')).toBe('3');
        expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
        remaining.push(response.headers.get('x-ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const over = await server.fetch('http://yoga/graphql', await request(server, a));
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await over.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
      expect(body.errors[0]!.message).toMatch(/over its plan's 3 requests a minute: retry in \d+ s/);

      expect((await server.fetch('http://yoga/graphql', await request(server, b))).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it.runIf(redisAnswers)('with Redis, two server instances share one tenant budget', async () => {
    const keyPrefix = `test:${randomBytes(4).toString('hex')}`;
    const first = createTenantRateLimiter({ requestsPerMinute: () => 4, redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    const second = createTenantRateLimiter({ requestsPerMinute: () => 4, redisUrl: 'redis://127.0.0.1:6379', keyPrefix });
    const one = await startTestServer({ database, yoga: { rateLimiter: first } });
    const two = await startTestServer({ database, yoga: { rateLimiter: second } });
    // A request before a limiter's connection is up counts in its own memory: under load that let a fifth one through.
    expect(await first.ready()).toBe(true);
    expect(await second.ready()).toBe(true);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await (i % 2 ? two : one).fetch('http://yoga/graphql', await request(one, a))).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      await one.close();
      await two.close();
      await first.close();
      await second.close();
    }
  });
});

async function request(server: TestServer, tenant: Tenant): Promise<RequestInit> {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
    body: JSON.stringify({ query: READ }),
  };
}
