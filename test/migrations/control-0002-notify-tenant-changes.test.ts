import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0002 on a registry that already holds a tenant: migrate to 0001, seed, migrate, assert. */
describe('control migration 0002 (tenant change notifications)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('notifies every change routing depends on, at commit, with the old and new slug; not a template version', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 1 });
    await sql.raw(tenantRow('before_0002')).execute(db);
    const id = (await sql<{ id: string }>`SELECT id FROM control.tenants`.execute(db)).rows[0]!.id;
    expect(await plane.changes.drain()).toEqual([]);

    expect(await plane.migrate({ direction: 'up', toVersion: 2 })).toEqual(['0002_notify_tenant_changes.sql']);
    // The tenant written before the trigger existed is covered like any other.
    await sql`UPDATE control.tenants SET slug = 'renamed' WHERE id = ${id}`.execute(db);
    await sql`UPDATE control.tenants SET status = 'suspended' WHERE id = ${id}`.execute(db);
    await sql`UPDATE control.tenants SET template_version = 7 WHERE id = ${id}`.execute(db);
    await sql.raw(tenantRow('after_0002')).execute(db);
    await sql`DELETE FROM control.tenants WHERE slug = 'after_0002'`.execute(db);
    const payloads = (await plane.changes.drain()) as { id: string; slugs: (string | null)[] }[];
    expect(payloads).toHaveLength(4);
    const [renamed, suspended, inserted, deleted] = payloads;
    expect(renamed).toEqual({ id, slugs: ['renamed', 'before_0002'] });
    expect(suspended).toEqual({ id, slugs: ['renamed', 'renamed'] });
    expect(inserted!.slugs).toEqual(['after_0002', null]);
    expect(deleted).toEqual({ id: inserted!.id, slugs: [null, 'after_0002'] });

    // A change rolled back is never announced.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`UPDATE control.tenants SET name = 'Never' WHERE id = ${id}`.execute(trx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await plane.changes.drain()).toEqual([]);
  });

  it('goes down to silence and up again', async () => {
    const db = plane.database.control;
    expect(await plane.migrate({ direction: 'down', toVersion: 1 })).toEqual(['0002_notify_tenant_changes.sql']);
    await sql`UPDATE control.tenants SET name = 'Unheard'`.execute(db);
    expect(await plane.changes.drain()).toEqual([]);
    expect(await plane.migrate({ direction: 'up', toVersion: 2 })).toEqual(['0002_notify_tenant_changes.sql']);
    await sql`UPDATE control.tenants SET name = 'Heard'`.execute(db);
    expect(await plane.changes.drain()).toEqual([{ id: expect.any(String), slugs: ['renamed', 'renamed'] }]);
  });
});
