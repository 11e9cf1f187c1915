import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAcrossSchemas } from '../../../src/control/usage/fleet-analytics.repository.js';
import { purgeTenant, softDeleteTenant } from '../../../src/control/tenants/tenant-lifecycle.service.js';
import type { Tenant } from '../../../src/db/control-database.js';
import { insertDemoData } from '../../../src/seed/demo-data.repository.js';
import { UsageRecorder } from '../../../src/server/observability/usage-recorder.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

type Usage = {
  tables: { table: string; rows: number; bytes: number }[];
  storageBytes: number;
  requestsToday: number;
  requestsLast30Days: number;
  errorsLast30Days: number;
  lastActivityAt: string | null;
  templateVersion: number;
  latestTemplateVersion: number;
  behind: boolean;
  drift: { file: string; problem: string }[];
};
const USAGE = `query ($slug: String!) { tenant(slug: $slug) { usage {
  tables { table rows bytes } storageBytes requestsToday requestsLast30Days errorsLast30Days lastActivityAt
  templateVersion latestTemplateVersion behind drift { file problem } } } }`;

// Different per tenant, so a report that read the wrong schema, or one schema twice, shows.
const SIZES = [
  { users: 4, projects: 3, deployments: 25, workflows: 6 },
  { users: 7, projects: 5, deployments: 41, workflows: 9 },
] as const;

describe('usage, health, fleet overview and analytics through /admin/graphql', () => {
  let server: TestServer;
  let admin: AdminTestServer;
  let usage: UsageRecorder;
  let tenants: Tenant[];
  const usageOf = async (slug: string) => (await admin.admin<{ tenant: { usage: Usage } }>(USAGE, { slug })).body.data!.tenant.usage;

  beforeAll(async () => {
    const database = await openTestDatabase();
    usage = new UsageRecorder(database, { flushIntervalMs: 60_000 });
    server = await startTestServer({ database, yoga: { usage } });
    admin = await startAdminTestServer(server.database);
    const template = await tenantTemplate();
    tenants = [await seedTenant(server.database, template, 'adm_use'), await seedTenant(server.database, template, 'adm_use')];
    for (const [i, tenant] of tenants.entries()) {
      await withTenantTransaction(server.database, tenant, {}, (db) => insertDemoData(db, tenant.slug, SIZES[i]!));
    }
  });
  afterAll(async () => {
    await usage.close();
    await server.close();
    await server.database.close();
  });

  it('counts requests and failures per tenant, and the last activity', async () => {
    const [tenant, other] = tenants;
    for (let i = 0; i < 5; i++) expect((await server.graphql(tenant!.slug, '{ tenant { slug } }')).status).toBe(200);
    const refused = await server.graphql(tenant!.slug, 'mutation { createProject(input: { name: "" }) { id } }');
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await usage.flush();

    const counted = await usageOf(tenant!.slug);
    expect(counted).toMatchObject({ requestsToday: 6, requestsLast30Days: 6, errorsLast30Days: 1 });
    expect(Date.now() - Date.parse(counted.lastActivityAt!)).toBeLessThan(60_000);
    expect(await usageOf(other!.slug)).toMatchObject({ requestsToday: 0, lastActivityAt: null });
  });

  it('reports exact rows per table and storage as the sum of pg_total_relation_size over the schema', async () => {
    for (const [i, tenant] of tenants.entries()) {
      const report = await usageOf(tenant.slug);
      const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
      expect(rows).toMatchObject(SIZES[i]!);
      expect(rows).not.toHaveProperty('schema_migrations');
      const expected = await sql<{ bytes: string }>`
        SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${tenant.schema_name} AND c.relkind IN ('r', 'p')`.execute(server.database.control);
      expect(report.storageBytes).toBe(Number(expected.rows[0]!.bytes));
      expect(report.storageBytes).toBeGreaterThan(0);
    }
  });

  it('usage over a tenant list holds a bounded number of pooled connections', async () => {
    // Unbounded, eight reports would want up to 24 connections at once.
    const template = await tenantTemplate();
    const prefix = `adm_many_${Date.now().toString(36)}`;
    for (let i = 0; i < 8; i++) await seedTenant(server.database, template, prefix);
    const pool = server.database.pool;
    let inUse = 0;
    let peak = 0;
    const acquire = () => (peak = Math.max(peak, ++inUse));
    const release = () => inUse--;
    pool.on('acquire', acquire);
    pool.on('release', release);
    try {
      const response = await admin.admin<{ tenants: { usage: { storageBytes: number } }[] }>(`{ tenants(first: 30, search: "${prefix}") { slug usage { storageBytes } } }`);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data!.tenants.length).toBe(8);
      expect(response.body.data!.tenants.every((t) => t.usage.storageBytes > 0)).toBe(true);
      // Two reports at a time, each up to three reads at once (plus the token check).
      expect(peak).toBeLessThanOrEqual(7);
    } finally {
      pool.off('acquire', acquire);
      pool.off('release', release);
    }
  });

  it('reports the template version, whether it is behind, and drift in the schema', async () => {
    const tenant = tenants[1]!;
    const healthy = await usageOf(tenant.slug);
    expect(healthy).toMatchObject({ templateVersion: healthy.latestTemplateVersion, behind: false, drift: [] });

    await sql`UPDATE ${sql.id(tenant.schema_name, 'schema_migrations')} SET checksum = 'edited' WHERE name = '0001_create_domain.sql'`.execute(
      server.database.control,
    );
    const drifted = await usageOf(tenant.slug);
    expect(drifted.drift).toEqual([expect.objectContaining({ file: '0001_create_domain.sql' })]);
  });

  it('the fleet overview counts tenants by status, plan and template version', async () => {
    const response = await admin.admin<{
      fleet: { total: number; byStatus: { value: string; count: number }[]; byPlan: { value: string; count: number }[]; byTemplateVersion: { value: string; count: number }[] };
    }>('{ fleet { total byStatus { value count } byPlan { value count } byTemplateVersion { value count } latestTemplateVersion activeTenantsLast7Days } }');
    const fleet = response.body.data!.fleet;
    const registry = await sql<{ n: string }>`SELECT count(*) AS n FROM control.tenants`.execute(server.database.control);
    // Other test files add tenants concurrently, so compare sums within one answer, and with a registry count taken after it.
    expect(fleet.byStatus.reduce((sum, row) => sum + row.count, 0)).toBe(fleet.total);
    expect(fleet.byPlan.reduce((sum, row) => sum + row.count, 0)).toBe(fleet.total);
    expect(fleet.byTemplateVersion.reduce((sum, row) => sum + row.count, 0)).toBe(fleet.total);
    expect(fleet.total).toBeGreaterThanOrEqual(2);
    expect(fleet.total).toBeLessThanOrEqual(Number(registry.rows[0]!.n));
  });

  it('one aggregate statement sums many schemas exactly', async () => {
    const since = new Date(Date.UTC(2000, 0, 1));
    const counts = await countAcrossSchemas(server.database.control, tenants.map((t) => t.schema_name), since);
    const total = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
    const sum = (key: keyof (typeof SIZES)[number]) => SIZES[0][key] + SIZES[1][key];
    expect(total(counts.deploymentsByStatus)).toBe(sum('deployments'));
    expect(total(counts.workflowsByStatus)).toBe(sum('workflows'));
    expect(total(counts.deploymentsPerDay)).toBe(sum('deployments'));
    expect(total(counts.usersPerDay)).toBe(sum('users'));
    // Each schema alone, so a batch that read one schema twice would not add up either.
    const one = await countAcrossSchemas(server.database.control, [tenants[1]!.schema_name], since);
    expect(total(one.deploymentsByStatus)).toBe(SIZES[1].deployments);
  });

  it('analytics are precomputed counts that name no tenant', async () => {
    const before = await admin.admin<{ analytics: null | { computedAt: string } }>('{ analytics { computedAt } }');
    expect(before.status).toBe(200);

    const refreshed = await admin.admin<{
      refreshAnalytics: { tenantsScanned: number; deploymentsByStatus: { value: string; count: number }[]; growth: { day: string }[] };
    }>('mutation { refreshAnalytics { computedAt tenantsScanned deploymentsByStatus { value count } workflowsByStatus { value count } growth { day tenantsCreated deploymentsCreated usersCreated } } }');
    const snapshot = refreshed.body.data!.refreshAnalytics;
    expect(snapshot.tenantsScanned).toBeGreaterThanOrEqual(2);
    expect(snapshot.deploymentsByStatus.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThanOrEqual(SIZES[0].deployments + SIZES[1].deployments);
    expect(snapshot.growth).toHaveLength(30);
    for (const tenant of tenants) {
      for (const identifying of [tenant.slug, tenant.id, tenant.schema_name, tenant.name]) expect(refreshed.text).not.toContain(identifying);
    }

    const read = await admin.admin<{ analytics: { tenantsScanned: number } }>('{ analytics { tenantsScanned } }');
    expect(read.body.data!.analytics.tenantsScanned).toBeGreaterThanOrEqual(snapshot.tenantsScanned);
  });

  it('a tenant whose schema vanished while the pass ran (purged meanwhile) is skipped, not fatal', async () => {
    const doomed = await seedTenant(server.database, await tenantTemplate(), 'adm_gone');
    await sql`DROP SCHEMA ${sql.id(doomed.schema_name)} CASCADE`.execute(server.database.control);
    const refreshed = await admin.admin<{ refreshAnalytics: { tenantsScanned: number } }>('mutation { refreshAnalytics { tenantsScanned } }');
    expect(refreshed.body.errors).toBeUndefined();
    expect(refreshed.body.data?.refreshAnalytics.tenantsScanned).toBeGreaterThanOrEqual(2);
    // Leave no registry row without a schema behind for other files' fleet runs.
    await softDeleteTenant(server.database, doomed.slug);
    await purgeTenant(server.database, doomed.slug);
  });

  it('analytics and usage are not reachable with a tenant token, at either endpoint', async () => {
    const token = await server.tokenFor(tenants[0]!.slug, 'admin');
    const denied = await admin.admin('{ analytics { tenantsScanned } }', undefined, { token });
    expect([denied.status, denied.body.errors?.[0]?.extensions?.code]).toEqual([401, 'INVALID_TOKEN']);
    const tenantApi = await server.graphql(tenants[0]!.slug, '{ analytics { tenantsScanned } }');
    expect(tenantApi.body.errors?.[0]?.message).toMatch(/Cannot query field "analytics"/);
  });
});
