import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import { addUsage } from '../../../src/control/usage/tenant-usage.repository.js';
import { insertDemoData } from '../../../src/seed/demo-data.repository.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { startAdminTestServer, type AdminTestServer } from '../../helpers/admin-server.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { openScratchDatabase } from '../../helpers/scratch-database.js';
import { openTestDatabase, TEMPLATES_DIR, tenantTemplate } from '../../helpers/test-database.js';

type Listed = { slug: string; name: string; templateVersion: number };
const LIST = `query ($search: String, $version: [Int!], $descending: Boolean, $afterSlug: String, $first: Int) {
  tenants(search: $search, version: $version, descending: $descending, afterSlug: $afterSlug, first: $first) { slug name templateVersion }
  tenantCount(search: $search, version: $version)
}`;

describe('what the console asks of /admin/graphql', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let admin: AdminTestServer;
  // Other files' tenants share the database: every name here carries this run's tag.
  const tag = randomBytes(3).toString('hex');
  const slugs = ['alpha', 'bravo', 'charlie'].map((word) => `con_${word}_${tag}`);

  beforeAll(async () => {
    database = await openTestDatabase();
    admin = await startAdminTestServer(database);
    const template = await tenantTemplate();
    for (const [i, slug] of slugs.entries()) {
      const { tenant } = await createTenant(database, template, { slug, name: `Console ${['Alpha', 'Bravo', 'Charlie'][i]} ${tag.toUpperCase()}` });
      // Sizes that differ, so the storage ranking has an order to find.
      await withTenantTransaction(database, tenant, {}, (db) => insertDemoData(db, slug, { users: 1, projects: 2, deployments: [10, 400, 50][i]!, workflows: 1 }));
    }
  });
  afterAll(() => database.close());

  const list = async (variables: Record<string, unknown>) => (await admin.admin<{ tenants: Listed[]; tenantCount: number }>(LIST, variables)).body.data!;

  it('searches slugs and names in any case, filters by version, sorts either way, pages by slug and counts the same filter', async () => {
    const byName = await list({ search: `charlie ${tag}` });
    expect([byName.tenants.map((t) => t.slug), byName.tenantCount]).toEqual([[slugs[2]], 1]);
    const all = await list({ search: tag });
    expect([all.tenants.map((t) => t.slug), all.tenantCount]).toEqual([slugs, 3]);
    const down = await list({ search: tag, descending: true, first: 2 });
    expect(down.tenants.map((t) => t.slug)).toEqual([slugs[2], slugs[1]]);
    const next = await list({ search: tag, descending: true, first: 2, afterSlug: slugs[1] });
    expect(next.tenants.map((t) => t.slug)).toEqual([slugs[0]]);
    const version = all.tenants[0]!.templateVersion;
    expect((await list({ search: tag, version: [version] })).tenantCount).toBe(3);
    expect((await list({ search: tag, version: [version - 1] })).tenantCount).toBe(0);
  });

  it('requests per day, the fleet and one tenant, with the days that had none; the tenants with the most requests', async () => {
    const ids = (await list({ search: tag })).tenants.map((t) => t.slug);
    const rows = await database.control.selectFrom('control.tenants').select(['id', 'slug']).where('slug', 'in', ids).execute();
    const idOf = new Map(rows.map((r) => [r.slug, r.id]));
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // Far more than any other test records, so these three lead the ranking.
    await addUsage(database.control, [
      { tenantId: idOf.get(slugs[0]!)!, day: today, requests: 9_000_003, errors: 2, lastRequestAt: new Date() },
      { tenantId: idOf.get(slugs[0]!)!, day: yesterday, requests: 5, errors: 0, lastRequestAt: new Date() },
      { tenantId: idOf.get(slugs[1]!)!, day: today, requests: 9_000_001, errors: 0, lastRequestAt: new Date() },
    ]);
    type Day = { day: string; requests: number; errors: number };
    const days = (await admin.admin<{ requestsByDay: Day[] }>(`query($s: String) { requestsByDay(slug: $s, days: 7) { day requests errors } }`, { s: slugs[0] })).body.data!.requestsByDay;
    expect(days).toHaveLength(7);
    expect(days.at(-1)).toEqual({ day: today, requests: 9_000_003, errors: 2 });
    expect(days.at(-2)).toEqual({ day: yesterday, requests: 5, errors: 0 });
    expect(days.slice(0, 5).every((d) => d.requests === 0)).toBe(true);
    const fleet = (await admin.admin<{ requestsByDay: Day[] }>('{ requestsByDay { day requests } }')).body.data!.requestsByDay;
    expect(fleet).toHaveLength(30);
    expect(fleet.at(-1)!.requests).toBeGreaterThanOrEqual(18_000_004);

    type Ranked = { topTenants: { tenant: { slug: string }; value: number }[] };
    const byRequests = (await admin.admin<Ranked>('{ topTenants(by: REQUESTS, first: 2) { tenant { slug } value } }')).body.data!.topTenants;
    expect(byRequests).toEqual([{ tenant: { slug: slugs[0] }, value: 9_000_008 }, { tenant: { slug: slugs[1] }, value: 9_000_001 }]);
  });

  it('the largest tenants by storage, as the catalog estimates them after ANALYZE, on a database of their own', async () => {
    const scratch = await openScratchDatabase();
    try {
      const templates = await loadTemplates(TEMPLATES_DIR);
      await migrateControlPlane(scratch.database, templates.control);
      const own = await startAdminTestServer(scratch.database);
      const sizes = { small: 10, large: 2_000, middle: 400 };
      for (const [slug, deployments] of Object.entries(sizes)) {
        const { tenant } = await createTenant(scratch.database, templates.tenant, { slug });
        await withTenantTransaction(scratch.database, tenant, {}, (db) => insertDemoData(db, slug, { users: 1, projects: 2, deployments, workflows: 1 }));
      }
      // What autovacuum would do in time: the estimate follows the last ANALYZE.
      await sql`ANALYZE`.execute(scratch.database.control);
      type Ranked = { topTenants: { tenant: { slug: string }; value: number }[] };
      const ranked = (await own.admin<Ranked>('{ topTenants(by: STORAGE, first: 5) { tenant { slug } value } }')).body.data!.topTenants;
      expect(ranked.map((r) => r.tenant.slug)).toEqual(['large', 'middle', 'small']);
      expect(ranked[0]!.value).toBeGreaterThan(ranked[1]!.value);
      expect(ranked[2]!.value).toBeGreaterThan(0);
    } finally {
      await scratch.drop();
    }
  });

  it('the operations log shows who did what, newest first, with its arguments and error codes', async () => {
    await admin.admin('mutation($s: String!) { suspendTenant(slug: $s) { status } }', { s: slugs[2] });
    await admin.admin('mutation($s: String!) { purgeTenant(slug: $s, confirmSlug: $s) { status } }', { s: slugs[2] });
    type Op = { operation: string; admin: string; fields: string[]; arguments: string; errorCodes: string[] };
    const ops = (await admin.admin<{ adminOperations: Op[] }>('{ adminOperations(first: 3) { operation admin fields arguments errorCodes } }')).body.data!.adminOperations;
    // The query itself is logged after it answers, so the two mutations lead.
    expect(ops.slice(0, 2)).toEqual([
      { operation: 'mutation (anonymous)', admin: 'test-operator', fields: ['purgeTenant'], arguments: JSON.stringify({ s: slugs[2] }), errorCodes: ['TENANT_NOT_DELETED'] },
      { operation: 'mutation (anonymous)', admin: 'test-operator', fields: ['suspendTenant'], arguments: JSON.stringify({ s: slugs[2] }), errorCodes: [] },
    ]);
  });
});
