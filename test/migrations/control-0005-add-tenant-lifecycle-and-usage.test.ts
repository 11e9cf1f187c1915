import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0005 on a registry that already holds tenants: migrate to 0004, seed, migrate, assert. */
describe('control migration 0005 (soft delete, usage, platform key, analytics)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('backfills tenants deleted before it, enforces the soft-delete invariant, and goes down cleanly', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 4 });
    // Rows as an older server wrote them: no schema exists, the registry alone is under test.
    await sql`INSERT INTO control.tenants (slug, name, status, schema_name) VALUES
      ('live_one', 'Live', 'active', 'tenant_' || md5('a')), ('gone_one', 'Gone', 'deleted', 'tenant_' || md5('b'))`.execute(db);

    await plane.migrate({ direction: 'up' });
    const rows = await sql<{ slug: string; deleted_at: Date | null; status_before_delete: string | null }>`
      SELECT slug, deleted_at, status_before_delete FROM control.tenants ORDER BY slug`.execute(db);
    expect(rows.rows.map((r) => [r.slug, r.deleted_at !== null, r.status_before_delete])).toEqual([
      ['gone_one', true, 'active'],
      ['live_one', false, null],
    ]);
    // A deleted status without its timestamp, or the reverse, is refused.
    await expect(sql`UPDATE control.tenants SET status = 'deleted' WHERE slug = 'live_one'`.execute(db)).rejects.toMatchObject({ code: '23514' });
    await expect(sql`UPDATE control.tenants SET deleted_at = now() WHERE slug = 'live_one'`.execute(db)).rejects.toMatchObject({ code: '23514' });
    const secret = await sql<{ n: string; len: number }>`SELECT count(*) AS n, min(length(hmac_secret)) AS len FROM control.platform_auth`.execute(db);
    expect(Number(secret.rows[0]!.n)).toBe(1);
    expect(secret.rows[0]!.len).toBeGreaterThanOrEqual(43);
    await expect(sql`INSERT INTO control.platform_auth (singleton, hmac_secret) VALUES (false, repeat('x', 64))`.execute(db)).rejects.toMatchObject({ code: '23514' });

    await plane.migrate({ direction: 'down', toVersion: 4 });
    const columns = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns WHERE table_schema = 'control' AND table_name = 'tenants'`.execute(db);
    expect(columns.rows.map((c) => c.column_name)).not.toContain('deleted_at');
    const tables = await sql<{ t: string | null }>`SELECT to_regclass('control.tenant_usage_daily')::text AS t`.execute(db);
    expect(tables.rows[0]!.t).toBeNull();
  });
});
