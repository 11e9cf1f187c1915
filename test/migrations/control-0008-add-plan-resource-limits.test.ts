import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0008 on plans as 0007 and an operator left them: migrate to 0007, add a plan, migrate, assert. */
describe('control migration 0008 (deployments and workflows per hour)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('gives the shipped plans the hourly limits, leaves an operator plan unlimited, refuses a non-positive one, and goes down cleanly', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 7 });
    await sql`INSERT INTO control.plans (name, requests_per_minute) VALUES ('operator_made', 100)`.execute(db);

    expect(await plane.migrate({ direction: 'up', toVersion: 8 })).toEqual(['0008_add_plan_resource_limits.sql']);
    const rows = await sql<{ name: string; deployments_per_hour: number | null; workflows_per_hour: number | null }>`
      SELECT name, deployments_per_hour, workflows_per_hour FROM control.plans ORDER BY name`.execute(db);
    expect(rows.rows).toEqual([
      { name: 'basic', deployments_per_hour: 100, workflows_per_hour: 50 },
      { name: 'custom', deployments_per_hour: 500, workflows_per_hour: 250 },
      { name: 'enterprise', deployments_per_hour: null, workflows_per_hour: null },
      { name: 'operator_made', deployments_per_hour: null, workflows_per_hour: null },
      { name: 'premium', deployments_per_hour: 500, workflows_per_hour: 250 },
    ]);
    await expect(sql`UPDATE control.plans SET workflows_per_hour = 0 WHERE name = 'basic'`.execute(db)).rejects.toMatchObject({ constraint: 'plans_workflows_per_hour_positive' });

    expect(await plane.migrate({ direction: 'down', toVersion: 7 })).toEqual(['0008_add_plan_resource_limits.sql']);
    const columns = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = 'control' AND table_name = 'plans'`.execute(db);
    expect(columns.rows.map((c) => c.column_name)).not.toContain('deployments_per_hour');
  });
});
