import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

const LITERAL = 'needle-literal-7f3a';

describe('OpenTelemetry spans per request', () => {
  const exporter = new InMemorySpanExporter();
  let server: TestServer;
  let tenant: Tenant;
  beforeAll(async () => {
    server = await startTestServer({ yoga: { traceExporter: exporter } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'traced');
    await server.graphql(tenant.slug, `mutation { createProject(input: { name: "${LITERAL}" }) { id } }`, {}, { as: 'member' });
  });
  afterAll(() => server.close());

  it('a span per request names the tenant and the operation, with a child span per statement; no literal or token in any attribute', async () => {
    const token = await server.tokenFor(tenant.slug, 'viewer');
    const search = (q: string) => server.graphql(tenant.slug, 'query Search($q: String) { projects(filter: { search: $q }) { totalCount edges { node { name } } } }', { q }, { as: { token } });
    // The third run: from the second, the document runs compiled (graphql-jit), whose execute replaces the plain one.
    // Other values each time, or the response cache would answer without a statement.
    await search('warm-up-1');
    await search('warm-up-2');
    exporter.reset();
    const response = await search(LITERAL);
    expect(response.body.errors).toBeUndefined();
    // The literal did travel, to PostgreSQL and back: only the trace is without it.
    expect((response.body.data as { projects: { totalCount: number } }).projects.totalCount).toBe(1);
    const spans = exporter.getFinishedSpans();
    const request = spans.find((span) => span.attributes['graphql.operation.name'] === 'Search');
    expect(request?.attributes).toMatchObject({ 'schemata.tenant': tenant.slug, 'graphql.operation.type': 'query', 'http.response.status_code': 200 });
    expect(request?.name).toBe('query Search');
    const statements = spans.filter((span) => span.name === 'db.statement' && span.parentSpanContext?.spanId === request!.spanContext().spanId);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    expect(statements[0]!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT' });
    expect(statements.every((s) => s.spanContext().traceId === request!.spanContext().traceId)).toBe(true);

    const everything = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })));
    expect(everything).not.toContain(LITERAL);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split('.')[2]!);
  });

  it('a refused request records its status and codes, still without its text', async () => {
    exporter.reset();
    await server.graphql(tenant.slug, `mutation Make { createProject(input: { name: "${LITERAL}" }) { id } }`, {}, { as: 'viewer' });
    const request = exporter.getFinishedSpans().find((span) => span.attributes['graphql.operation.name'] === 'Make');
    expect(request?.attributes['schemata.error_codes']).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes))).not.toContain(LITERAL);
  });
});
