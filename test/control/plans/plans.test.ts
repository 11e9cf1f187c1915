import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlan, listPlans } from '../../../src/control/plans/plan.repository.js';
import { requirePlan } from '../../../src/control/plans/plan.service.js';
import type { Database } from '../../../src/db/database.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { loadTemplate } from '../../../src/migrations/template.js';
import { openScratchDatabase, type ScratchDatabase } from '../../helpers/scratch-database.js';
import { openTestDatabase, seedTenant, tenantTemplate, TEMPLATES_DIR } from '../../helpers/test-database.js';

describe('plans', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('the four plans are seeded with their limits; custom starts as premium', async () => {
    const plans = await listPlans(database.control);
    const byName = new Map(plans.map((plan) => [plan.name, plan]));
    expect(byName.get('basic')).toEqual({
      name: 'basic', maxUsers: 25, maxStorageBytes: 1024 ** 3, requestsPerMinute: 600, requestsPerDay: 100_000, maxSubscriptions: 20, deploymentsPerHour: 100, workflowsPerHour: 50, features: [],
    });
    expect(byName.get('premium')).toEqual({
      name: 'premium', maxUsers: 100, maxStorageBytes: 10 * 1024 ** 3, requestsPerMinute: 3_000, requestsPerDay: 1_000_000, maxSubscriptions: 100, deploymentsPerHour: 500, workflowsPerHour: 250, features: ['workflows'],
    });
    expect(byName.get('enterprise')).toEqual({
      name: 'enterprise', maxUsers: null, maxStorageBytes: 100 * 1024 ** 3, requestsPerMinute: 12_000, requestsPerDay: 10_000_000, maxSubscriptions: null, deploymentsPerHour: null, workflowsPerHour: null, features: ['workflows'],
    });
    expect(byName.get('custom')).toEqual({ ...byName.get('premium'), name: 'custom' });
    expect(await findPlan(database.control, 'basic')).toEqual(byName.get('basic'));
  });

  it('an unknown plan is refused: PLAN_NOT_FOUND from the validator, a foreign-key violation from the database', async () => {
    await expect(requirePlan(database.control, 'gold')).rejects.toMatchObject({
      code: 'PLAN_NOT_FOUND',
      message: expect.stringMatching(/^no plan named "gold": the plans are (\w+, )+\w+$/),
      details: { plan: 'gold', plans: expect.arrayContaining(['basic', 'premium', 'enterprise', 'custom']) },
    });
    expect(await findPlan(database.control, 'gold')).toBeUndefined();
    const tenant = await seedTenant(database, await tenantTemplate(), 'plan_fk');
    await expect(database.control.updateTable('control.tenants').set({ plan: 'gold' }).where('id', '=', tenant.id).execute()).rejects.toMatchObject({
      code: '23503',
      constraint: 'tenants_plan_fkey',
    });
    // Nor can a plan in use be deleted.
    await expect(database.control.deleteFrom('control.plans').where('name', '=', 'enterprise').execute()).rejects.toMatchObject({ code: '23503' });
  });

  it('plan rows are checked: limits are positive, a day allows at least a minute, features are known', async () => {
    const insert = (values: Record<string, unknown>) =>
      sql`INSERT INTO control.plans ${sql.raw('(' + Object.keys(values).join(', ') + ')')} VALUES (${sql.join(Object.values(values))})`.execute(database.control);
    const name = `bad_${randomBytes(3).toString('hex')}`;
    await expect(insert({ name, requests_per_minute: 0 })).rejects.toMatchObject({ code: '23514' });
    await expect(insert({ name, requests_per_minute: 10, requests_per_day: 5 })).rejects.toMatchObject({ code: '23514' });
    await expect(insert({ name, requests_per_minute: 10, max_users: 0 })).rejects.toMatchObject({ code: '23514' });
    await expect(insert({ name, requests_per_minute: 10, features: sql`'{workflow}'::text[]` })).rejects.toMatchObject({
      code: '23514',
      constraint: 'plans_features_known',
    });
    await expect(insert({ name: 'Not A Name', requests_per_minute: 10 })).rejects.toMatchObject({ code: '23514' });
  });
});

describe('control migration 0004 (plans)', () => {
  // Its own database: the run's database is already at the head.
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    scratch = await openScratchDatabase();
  });
  afterAll(() => scratch.drop());

  it('keeps every tenant on its plan, turns the CHECK into a foreign key, and goes back down', async () => {
    const { database } = scratch;
    // The files up to a version, so later files cannot change what this test sees.
    const templateUpTo = async (version: number) => {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-control-'));
      await fs.mkdir(path.join(root, 'control'));
      for (const file of await fs.readdir(path.join(TEMPLATES_DIR, 'control'))) {
        if (Number(file.slice(0, 4)) <= version) await fs.copyFile(path.join(TEMPLATES_DIR, 'control', file), path.join(root, 'control', file));
      }
      return loadTemplate(root, 'control');
    };
    const template = await templateUpTo(4);

    await migrateControlPlane(database, await templateUpTo(3));
    const tenants = ['basic', 'premium', 'enterprise', 'custom'].map((plan, i) => {
      const id = `00000000-0000-4000-8000-00000000000${i}`;
      return { id, slug: `old_${plan}`, name: plan, plan, schema_name: `tenant_${id.replaceAll('-', '')}` };
    });
    await database.control.insertInto('control.tenants').values(tenants).execute();

    expect((await migrateControlPlane(database, template, { direction: 'up' })).names).toEqual(['0004_create_plans.sql']);
    const after = await database.control.selectFrom('control.tenants').select(['slug', 'plan']).orderBy('slug').execute();
    expect(after).toEqual(tenants.map((t) => ({ slug: t.slug, plan: t.plan })).sort((a, b) => a.slug.localeCompare(b.slug)));
    await expect(sql`UPDATE control.tenants SET plan = 'gold' WHERE slug = 'old_basic'`.execute(database.control)).rejects.toMatchObject({ code: '23503' });
    // A plan may now be added as data, and a tenant moved onto it.
    await sql`INSERT INTO control.plans (name, requests_per_minute) VALUES ('gold', 100)`.execute(database.control);
    await sql`UPDATE control.tenants SET plan = 'gold' WHERE slug = 'old_basic'`.execute(database.control);
    await sql`UPDATE control.tenants SET plan = 'basic' WHERE slug = 'old_basic'`.execute(database.control);

    expect((await migrateControlPlane(database, template, { direction: 'down', toVersion: 3 })).names).toEqual(['0004_create_plans.sql']);
    const plansTable = await sql<{ exists: boolean }>`SELECT to_regclass('control.plans') IS NOT NULL AS exists`.execute(database.control);
    expect(plansTable.rows[0]!.exists).toBe(false);
    await expect(sql`UPDATE control.tenants SET plan = 'gold' WHERE slug = 'old_basic'`.execute(database.control)).rejects.toMatchObject({
      code: '23514',
      constraint: 'tenants_plan_check',
    });
  });
});
