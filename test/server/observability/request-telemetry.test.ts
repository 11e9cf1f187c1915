import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { createLogger } from '../../../src/server/observability/logger.js';
import { createMetrics, type Metrics } from '../../../src/server/observability/metrics.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

describe('request telemetry', () => {
  const lines: string[] = [];
  let server: TestServer;
  let tenant: Tenant;
  let metrics: Metrics;

  beforeAll(async () => {
    const database = await openTestDatabase();
    metrics = createMetrics({ pool: database.pool });
    server = await startTestServer({ database, yoga: { metrics, logger: createLogger('info', { write: (line: string) => void lines.push(line) }) } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'logs');
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('one JSON line per request with request id, tenant, operation, duration, status and outcome', async () => {
    const response = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, 'x-request-id': 'req-123', authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
      body: JSON.stringify({ query: 'query ListProjects { projects { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-123');
    expect(entries().at(-1)).toMatchObject({
      msg: 'request',
      requestId: 'req-123',
      tenant: tenant.slug,
      operation: 'query ListProjects',
      status: 200,
      outcome: 'ok',
      durationMs: expect.any(Number),
    });

    await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "" }) { id } }', {}, { as: 'viewer' });
    expect(entries().at(-1)).toMatchObject({ tenant: tenant.slug, operation: 'mutation (anonymous)', outcome: 'refused', errorCodes: ['FORBIDDEN'] });

    await server.graphql('nobody_at_all', '{ tenant { slug } }', {}, { as: null });
    expect(entries().at(-1)).toMatchObject({ status: 404, outcome: 'refused', requestId: expect.any(String) });
  });

  it('the metrics count requests per tenant and the pool gauges; the API itself does not serve them', async () => {
    expect((await server.fetch('http://yoga/metrics')).status).toBe(404);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`schemata_requests_total\\{tenant="${tenant.slug}",outcome="ok"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`schemata_requests_total\\{tenant="${tenant.slug}",outcome="refused"\\} [1-9]`));
    expect(text).toMatch(/schemata_request_duration_seconds_bucket\{le="0.5",tenant=/);
    expect(text).toMatch(/schemata_db_pool_connections\{state="total"\} \d+/);
  });

  it('never contains tokens or passwords', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const secret = 'my very secret password';
    await server.graphql(tenant.slug, 'mutation Login($e: EmailAddress!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: 'x@logs.example', p: secret }, { as: { token } });
    const text = lines.join('');
    expect(text).toContain('mutation Login');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2]!);
  });
});
