import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

/** Control migration 0010 on a control plane at 0009 with a tenant in it: migrate, check the rules the tables hold, go down. */
describe('control migration 0010 (tenant settings)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('keeps a secret sealed and a plain value plain, leaves no setting of a purged tenant but its reveals, and goes down cleanly', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 9 });
    const tenant = (await sql.raw<{ id: string }>(`${tenantRow('set_mig')} RETURNING id`).execute(db)).rows[0]!.id;

    expect(await plane.migrate({ direction: 'up', toVersion: 10 })).toEqual(['0010_create_tenant_settings.sql']);
    await sql`INSERT INTO control.tenant_data_keys (tenant_id, master_key_id, wrapped_key) VALUES (${tenant}, '0123456789abcdef', '\\x00')`.execute(db);
    await sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, value) VALUES (${tenant}, 'plain', false, 'on')`.execute(db);
    await sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, ciphertext) VALUES (${tenant}, 'sealed', true, '\\x01')`.execute(db);
    await sql`INSERT INTO control.tenant_setting_reveals (tenant_id, key, revealed_by) VALUES (${tenant}, 'sealed', 'test')`.execute(db);

    // A secret with a value in clear, or a plain setting with ciphertext, or neither: refused by the table itself.
    const refused = (statement: Promise<unknown>, constraint: string) => expect(statement).rejects.toMatchObject({ constraint });
    await refused(sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, value) VALUES (${tenant}, 'leak', true, 'in clear')`.execute(db), 'tenant_settings_secret_sealed');
    await refused(sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, ciphertext) VALUES (${tenant}, 'odd', false, '\\x01')`.execute(db), 'tenant_settings_secret_sealed');
    await refused(sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, value) VALUES (${tenant}, 'Bad Key', false, 'x')`.execute(db), 'tenant_settings_key_check');
    await refused(sql`INSERT INTO control.tenant_settings (tenant_id, key, secret, value) VALUES (${tenant}, 'big', false, repeat('x', 8193))`.execute(db), 'tenant_settings_value_check');
    await refused(sql`INSERT INTO control.tenant_data_keys (tenant_id, master_key_id, wrapped_key) VALUES (gen_random_uuid(), 'nothex', '\\x00')`.execute(db), 'tenant_data_keys_master_key_id_check');

    // Purging the tenant's row takes its settings and key with it; the record of reveals stays.
    await sql`DELETE FROM control.tenants WHERE id = ${tenant}`.execute(db);
    const count = async (table: string) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(`control.${table}`)}`.execute(db)).rows[0]!.n;
    expect(await count('tenant_data_keys')).toBe(0);
    expect(await count('tenant_settings')).toBe(0);
    expect(await count('tenant_setting_reveals')).toBe(1);

    expect(await plane.migrate({ direction: 'down', toVersion: 9 })).toEqual(['0010_create_tenant_settings.sql']);
    const tables = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'control'`.execute(db);
    expect(tables.rows.map((t) => t.table_name)).not.toContain('tenant_settings');
    expect(tables.rows.map((t) => t.table_name)).not.toContain('tenant_data_keys');
  });
});
