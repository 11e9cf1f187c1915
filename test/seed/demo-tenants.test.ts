import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplates } from '../../src/migrations/template.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { changeTenantPlan } from '../../src/control/tenants/tenant-lifecycle.service.js';
import { describeSeedResult, seedDemoTenants } from '../../src/seed/demo-tenants.service.js';
import { openScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database.js';
import { startTestServer } from '../helpers/test-server.js';
import { TEMPLATES_DIR } from '../helpers/test-database.js';

describe('demo tenants', () => {
  // The demo's slugs are fixed, so it gets a database of its own.
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await openScratchDatabase();
  });
  afterAll(() => scratch.drop());

  it('acme is premium and globex basic, so globex shows the workflows flag; a second seed keeps a changed plan', async () => {
    const { database } = scratch;
    const templates = await loadTemplates(TEMPLATES_DIR);
    await migrateControlPlane(database, templates.control);
    const results = await seedDemoTenants(database, templates.tenant);
    expect(results.map((r) => [r.slug, r.plan, r.created])).toEqual([
      ['acme', 'premium', true],
      ['globex', 'basic', true],
    ]);
    expect(describeSeedResult(results[1]!)).toMatch(/^globex \(basic\): created, seeded \(18 users/);

    const server = await startTestServer({ database });
    try {
      const query = '{ workflows(first: 1) { totalCount } }';
      expect((await server.graphql('acme', query, {}, { as: 'viewer' })).body).toEqual({ data: { workflows: { totalCount: 400 } } });
      const globex = await server.graphql('globex', query, {}, { as: 'viewer' });
      expect(globex.body.errors?.[0]?.extensions).toMatchObject({ code: 'FEATURE_NOT_IN_PLAN', feature: 'workflows', plan: 'basic' });
    } finally {
      await server.close();
    }

    await changeTenantPlan(database, 'globex', 'enterprise');
    const again = await seedDemoTenants(database, templates.tenant);
    expect(again.map((r) => [r.slug, r.plan, r.created, r.seeded])).toEqual([
      ['acme', 'premium', false, false],
      ['globex', 'enterprise', false, false],
    ]);
  });
});
