import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0006 on plans as 0004 and an operator left them: migrate to 0005, add a plan, migrate, assert. */
describe('control migration 0006 (subscriptions per plan)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('gives the shipped plans a limit, leaves an operator plan unlimited, refuses a non-positive one, and goes down cleanly', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 5 });
    await sql`INSERT INTO control.plans (name, requests_per_minute) VALUES ('operator_made', 100)`.execute(db);

    expect(await plane.migrate({ direction: 'up', toVersion: 6 })).toEqual(['0006_add_plan_subscription_limit.sql']);
    const rows = await sql<{ name: string; max_subscriptions: number | null }>`SELECT name, max_subscriptions FROM control.plans ORDER BY name`.execute(db);
    expect(rows.rows).toEqual([
      { name: 'basic', max_subscriptions: 20 },
      { name: 'custom', max_subscriptions: 100 },
      { name: 'enterprise', max_subscriptions: null },
      { name: 'operator_made', max_subscriptions: null },
      { name: 'premium', max_subscriptions: 100 },
    ]);
    await expect(sql`UPDATE control.plans SET max_subscriptions = 0 WHERE name = 'basic'`.execute(db)).rejects.toMatchObject({ constraint: 'plans_max_subscriptions_positive' });

    expect(await plane.migrate({ direction: 'down', toVersion: 5 })).toEqual(['0006_add_plan_subscription_limit.sql']);
    const columns = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = 'control' AND table_name = 'plans'`.execute(db);
    expect(columns.rows.map((c) => c.column_name)).not.toContain('max_subscriptions');
  });
});
