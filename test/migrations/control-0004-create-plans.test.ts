import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationsIn, scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0004 on a registry whose tenants are on every old plan: migrate to 0003, seed, migrate, assert. */
describe('control migration 0004 (plans as data)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  const plansOfTenants = async () =>
    (await sql<{ slug: string; plan: string }>`SELECT slug, plan FROM control.tenants ORDER BY slug`.execute(plane.database.control)).rows;

  it('turns the plan CHECK into a foreign key to a plans table seeded with the four old plans, keeping every tenant on its plan', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 3 });
    for (const plan of ['basic', 'premium', 'enterprise', 'custom']) await sql.raw(tenantRow(`on_${plan}`, { plan: `'${plan}'` })).execute(db);
    const before = await plansOfTenants();

    expect(await plane.migrate({ direction: 'up', toVersion: 4 })).toEqual(['0004_create_plans.sql']);
    expect(await plansOfTenants()).toEqual(before);
    const plans = await sql<{ name: string; max_users: number | null; requests_per_minute: number; features: string[] }>`
      SELECT name, max_users, requests_per_minute, features FROM control.plans ORDER BY requests_per_minute, name`.execute(db);
    expect(plans.rows).toEqual([
      { name: 'basic', max_users: 25, requests_per_minute: 600, features: [] },
      { name: 'custom', max_users: 100, requests_per_minute: 3000, features: ['workflows'] },
      { name: 'premium', max_users: 100, requests_per_minute: 3000, features: ['workflows'] },
      { name: 'enterprise', max_users: null, requests_per_minute: 12000, features: ['workflows'] },
    ]);
    await plane.changes.drain();

    for (const [label, statement, constraint] of [
      ['a tenant on no plan', `UPDATE control.tenants SET plan = 'gold' WHERE slug = 'on_basic'`, 'tenants_plan_fkey'],
      ['a misspelt feature', `INSERT INTO control.plans (name, requests_per_minute, features) VALUES ('typo', 10, '{workflow}')`, 'plans_features_known'],
      ['a plan without a per-minute limit', `INSERT INTO control.plans (name) VALUES ('free')`, undefined],
      ['a daily limit under the per-minute one', `INSERT INTO control.plans (name, requests_per_minute, requests_per_day) VALUES ('odd', 10, 5)`, 'plans_check'],
      ['a plan name with capitals', `INSERT INTO control.plans (name, requests_per_minute) VALUES ('Gold', 10)`, 'plans_name_check'],
      ['dropping a plan a tenant is on', `DELETE FROM control.plans WHERE name = 'premium'`, 'tenants_plan_fkey'],
    ] as const) {
      await expect(sql.raw(statement).execute(db), label).rejects.toMatchObject(constraint ? { constraint } : { code: '23502' });
    }

    // A plan is data: it can be added, and renamed with its tenants following; each change is announced.
    await sql`INSERT INTO control.plans (name, requests_per_minute) VALUES ('gold', 100)`.execute(db);
    await sql`UPDATE control.tenants SET plan = 'gold' WHERE slug = 'on_custom'`.execute(db);
    await sql`UPDATE control.plans SET name = 'platinum' WHERE name = 'gold'`.execute(db);
    expect((await plansOfTenants()).find((row) => row.slug === 'on_custom')?.plan).toBe('platinum');
    const announced = (await plane.changes.drain()) as { plan?: string }[];
    expect(announced.filter((payload) => payload.plan !== undefined)).toEqual([{ plan: 'gold' }, { plan: 'platinum' }]);
    await sql`UPDATE control.tenants SET plan = 'custom' WHERE slug = 'on_custom'`.execute(db);
  });

  it('goes down to the CHECK and up again', async () => {
    const db = plane.database.control;
    expect(await plane.migrate({ direction: 'down', toVersion: 3 })).toEqual(['0004_create_plans.sql']);
    expect(await relationsIn(plane.database, 'control')).not.toContain('plans');
    await expect(sql`UPDATE control.tenants SET plan = 'gold' WHERE slug = 'on_basic'`.execute(db)).rejects.toMatchObject({ constraint: 'tenants_plan_check' });
    expect(await plane.migrate({ direction: 'up', toVersion: 4 })).toEqual(['0004_create_plans.sql']);
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM control.plans`.execute(db)).rows[0]!.n).toBe(4);
  });
});
