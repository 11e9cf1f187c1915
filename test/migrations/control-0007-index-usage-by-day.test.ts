import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0007 on a usage table with history: migrate to 0006, add rows, migrate, assert the plan, go down. */
describe('control migration 0007 (usage by day)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('lets the fleet read of the last 30 days use an index instead of the whole history, keeps every row, and goes down cleanly', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 6 });
    await sql`INSERT INTO control.tenants (id, slug, name, schema_name) VALUES ('00000000-0000-4000-8000-000000000007', 'usage_0007', 'Usage', 'tenant_00000000000040008000000000000007')`.execute(db);
    // A year of one tenant's history, so the planner has a table worth an index.
    await sql`
      INSERT INTO control.tenant_usage_daily (tenant_id, day, requests, errors, last_request_at)
      SELECT '00000000-0000-4000-8000-000000000007', d::date, 10, 1, d FROM generate_series(now() - interval '5 years', now(), interval '1 day') d`.execute(db);

    expect(await plane.migrate({ direction: 'up', toVersion: 7 })).toEqual(['0007_index_usage_by_day.sql']);
    await sql`ANALYZE control.tenant_usage_daily`.execute(db);
    const plan = await sql<{ 'QUERY PLAN': string }>`
      EXPLAIN SELECT day, sum(requests), sum(errors) FROM control.tenant_usage_daily WHERE day > (now() AT TIME ZONE 'utc')::date - 30 GROUP BY day`.execute(db);
    expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Only Scan using tenant_usage_daily_day_idx/);
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM control.tenant_usage_daily`.execute(db);
    expect(count.rows[0]!.n).toBeGreaterThan(1_800);

    expect(await plane.migrate({ direction: 'down', toVersion: 6 })).toEqual(['0007_index_usage_by_day.sql']);
    const indexes = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE schemaname = 'control' AND tablename = 'tenant_usage_daily'`.execute(db);
    expect(indexes.rows.map((i) => i.indexname)).not.toContain('tenant_usage_daily_day_idx');
  });
});
