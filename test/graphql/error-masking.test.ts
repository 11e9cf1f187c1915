import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Anything that would tell an attacker about our SQL, schema names or code. */
const LEAKS = [/select\s/i, /\bfrom\s+"?\w/i, /tenant_[0-9a-f]{8}/, /\bat\s+\S+\s*\(/, /\.ts:\d+/, /node_modules/, /relation "|column "/, /syntax error at or near/, /stack/i];

describe('error masking', () => {
  let server: TestServer;
  let tenant: Tenant;
  const logged: unknown[] = [];

  beforeAll(async () => {
    server = await startTestServer({ yoga: { logError: (error) => logged.push(error) } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'mask');
  });
  afterAll(() => server.close());

  it('a database failure inside a resolver reaches the client as "Unexpected error." and the operator log in full', async () => {
    // Break the tenant's schema behind the server's back, as a bad manual change would.
    await sql`ALTER TABLE ${sql.id(tenant.schema_name, 'workflows')} RENAME TO workflows_gone`.execute(server.database.control);
    const response = await server.graphql(tenant.slug, '{ workflows(first: 5) { edges { node { name config } } } }');

    expect(response.body.errors).toEqual([
      { message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['workflows'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    for (const pattern of LEAKS) expect(response.text).not.toMatch(pattern);
    expect(String(logged.at(-1))).toMatch(/relation "workflows" does not exist/);
  });

  it("a Citus worker refusing the tenant role's connection is NODE_AUTHENTICATION_FAILED (500), while a worker that is down stays DATABASE_UNAVAILABLE", async () => {
    // What a Citus coordinator sends when it cannot reach a worker as the current role:
    // SQLSTATE 08006 and this message (remote_commands.c, ReportConnectionError). A view
    // raises it from inside the tenant's own query, as the coordinator would.
    const citusFailure = (name: string, detail: string) => sql`
      CREATE FUNCTION ${sql.id(tenant.schema_name, name)}() RETURNS boolean LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = '08006',
          MESSAGE = format('connection to the remote node %s@127.0.0.1:9701 failed with the following error: %s', current_user, ${sql.lit(detail)}::text);
      END $fn$`;
    const db = server.database.control;
    const projects = sql.id(tenant.schema_name, 'projects');
    // A row for the view's condition to be evaluated on.
    await sql`INSERT INTO ${projects} (name) VALUES ('on a worker')`.execute(db);
    await sql`ALTER TABLE ${projects} RENAME TO projects_on_worker`.execute(db);
    try {
      for (const [name, detail, code, status] of [
        ['refused_login', `FATAL:  role "${tenant.schema_name}" is not permitted to log in`, 'NODE_AUTHENTICATION_FAILED', 500],
        ['refused_password', `FATAL:  password authentication failed for user "${tenant.schema_name}"`, 'NODE_AUTHENTICATION_FAILED', 500],
        // As seen on a real Citus 13.2 worker demanding scram-sha-256 from a role with no password in pg_dist_authinfo.
        ['no_password', 'fe_sendauth: no password supplied', 'NODE_AUTHENTICATION_FAILED', 500],
        // Negative control: the same SQLSTATE and shape for a worker that is down is an outage worth retrying.
        ['worker_down', 'connection to server at "127.0.0.1", port 9701 failed: Connection refused', 'DATABASE_UNAVAILABLE', 503],
      ] as const) {
        await citusFailure(name, detail).execute(db);
        await sql`CREATE OR REPLACE VIEW ${projects} AS SELECT * FROM ${sql.id(tenant.schema_name, 'projects_on_worker')} WHERE ${sql.id(tenant.schema_name, name)}()`.execute(db);
        const response = await server.graphql(tenant.slug, '{ projects { totalCount } }');
        expect(response.status, name).toBe(status);
        expect(response.body.errors?.[0]?.extensions?.code, name).toBe(code);
        // Neither the node's address nor the role reaches the client; the operator's log has both.
        expect(response.text).not.toMatch(/9701|127\.0\.0\.1|remote node/);
        for (const pattern of LEAKS) expect(response.text).not.toMatch(pattern);
        expect(String((logged.at(-1) as Error).message)).toContain(`${tenant.schema_name}@127.0.0.1:9701`);
      }
    } finally {
      await sql`DROP VIEW IF EXISTS ${projects}`.execute(db);
      await sql`ALTER TABLE ${sql.id(tenant.schema_name, 'projects_on_worker')} RENAME TO projects`.execute(db);
    }
  });

  it('malformed GraphQL gets a precise syntax error and nothing else', async () => {
    const response = await server.graphql(tenant.slug, '{ deployments(first: 1 { id }');
    expect(response.body.errors).toEqual([expect.objectContaining({ message: 'Syntax Error: Expected Name, found "{".', extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    for (const pattern of LEAKS) expect(response.text).not.toMatch(pattern);
  });

  it('an unknown field gets a validation error naming it', async () => {
    const response = await server.graphql(tenant.slug, '{ deployment { id } }');
    expect(response.body.errors?.[0]).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/^Cannot query field "deployment" on type "Query"/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    );
  });

  it('bodies that are not GraphQL requests are refused cleanly', async () => {
    const post = (body: string) =>
      server.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug }, body });
    const notJson = await post('{"query": ');
    expect(notJson.status).toBe(400);
    const text = await notJson.text();
    expect(JSON.parse(text).errors[0]).toMatchObject({ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } });
    for (const pattern of LEAKS) expect(text).not.toMatch(pattern);
    const noQuery = await post('{"variables": {}}');
    expect(JSON.parse(await noQuery.text()).errors[0]).toMatchObject({ message: 'Must provide query string.' });
  });
});

describe('database outages', () => {
  it('a tenant transaction that cannot reach Postgres answers 503 DATABASE_UNAVAILABLE with Retry-After, not a masked 500', async () => {
    const { openDatabase } = await import('../../src/db/database.js');
    const { withTenantTransaction } = await import('../../src/tenancy/tenant-transaction.js');
    const { testConfig } = await import('../helpers/test-database.js');
    const healthy = await startTestServer();
    const tenant = await seedTenant(healthy.database, await tenantTemplate(), 'outage');
    // A pool whose server is gone: every connect is refused.
    const dead = await openDatabase(testConfig()).then(async (db) => {
      const url = new URL(db.url);
      await db.close();
      url.port = '1';
      return url.toString();
    });
    const { default: pg } = await import('pg');
    const deadPool = new pg.Pool({ connectionString: dead, connectionTimeoutMillis: 500 });
    deadPool.on('error', () => undefined);
    const server = await startTestServer({
      database: healthy.database,
      yoga: { tenantScope: (database, t, options, work) => withTenantTransaction({ ...database, pool: deadPool }, t, options, work) },
    });
    try {
      const response = await server.graphql(tenant.slug, '{ projects { totalCount } }');
      expect(response.status).toBe(503);
      expect(response.body.errors?.[0]).toMatchObject({ message: 'the database is unavailable; retry in a moment', extensions: { code: 'DATABASE_UNAVAILABLE' } });
      const raw = await server.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
        body: JSON.stringify({ query: '{ projects { totalCount } }' }),
      });
      expect(raw.headers.get('retry-after')).toBe('1');
    } finally {
      await server.close();
      await healthy.close();
      await deadPool.end();
    }
  });
});
