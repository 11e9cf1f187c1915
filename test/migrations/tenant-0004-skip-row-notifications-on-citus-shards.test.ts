import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { ROW_CHANGE_TABLES } from '../../src/realtime/change-stream.js';
import { asTenant, listen, tenantAtVersion, type Listener, type TenantUnderTest } from '../helpers/migration-steps.js';

const CHANNEL = 'schemata_row_changed';

/**
 * Tenant migration 0004: the row-change trigger announces its own tables only,
 * never a Citus shard (<table>_<shard id>, where a NOTIFY would make Citus's
 * two-phase commit fail). A table named like a shard, with the same trigger,
 * stands in for one.
 */
describe('tenant migration 0004 (no notifications from Citus shards)', () => {
  let subject: TenantUnderTest;
  let database: Database;
  let tenant: Tenant;
  let changes: Listener;
  beforeAll(async () => {
    subject = await tenantAtVersion(3, 'mig0004');
    ({ database, tenant } = subject);
    changes = await listen(database.sessionUrl, CHANNEL);
    await sql`CREATE TABLE ${sql.id(tenant.schema_name, 'deployments_102030')} (LIKE ${sql.id(tenant.schema_name, 'deployments')} INCLUDING DEFAULTS)`.execute(database.control);
    await sql`CREATE TRIGGER deployments_notify_insert AFTER INSERT ON ${sql.id(tenant.schema_name, 'deployments_102030')}
      FOR EACH ROW EXECUTE FUNCTION ${sql.id(tenant.schema_name, 'notify_row_change')}()`.execute(database.control);
    await sql`GRANT INSERT ON ${sql.id(tenant.schema_name, 'deployments_102030')} TO ${sql.id(tenant.schema_name)}`.execute(database.control);
  });
  afterAll(async () => {
    await changes.close();
    await subject.close();
  });

  const mine = async () => (await changes.drain()).filter((payload) => (payload as { schema: string }).schema === tenant.schema_name);
  const insertBoth = async () => {
    const [project] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO projects (name) VALUES ('P' || gen_random_uuid()) RETURNING id`);
    const [real] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO deployments (project_id) VALUES ('${project!.id}') RETURNING id`);
    await asTenant(database, tenant, `INSERT INTO deployments_102030 (project_id) VALUES ('${project!.id}')`);
    return real!.id;
  };

  it('before it, a shard-named table announces too (the negative control); after it, only the table itself', async () => {
    await insertBoth();
    const before = await mine();
    expect(before.map((p) => (p as { table: string }).table).sort()).toEqual(['deployments', 'deployments_102030']);

    expect(await subject.migrate({ direction: 'up', toVersion: 4 })).toEqual(['0004_skip_row_notifications_on_citus_shards.sql']);
    const id = await insertBoth();
    expect(await mine()).toEqual([{ schema: tenant.schema_name, table: 'deployments', id, op: 'INSERT' }]);
  });

  it("names exactly the tables the change feed listens for, which are exactly those with the trigger", async () => {
    const source = await sql<{ src: string }>`
      SELECT prosrc AS src FROM pg_proc WHERE proname = 'notify_row_change' AND pronamespace = ${tenant.schema_name}::regnamespace`.execute(database.control);
    const listed = /TG_TABLE_NAME IN \(([^)]*)\)/.exec(source.rows[0]!.src)![1]!.split(',').map((name) => name.trim().replace(/'/g, ''));
    expect(listed.sort()).toEqual([...ROW_CHANGE_TABLES].sort());
    const triggered = await sql<{ table: string }>`
      SELECT DISTINCT c.relname::text AS table FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
      WHERE c.relnamespace = ${tenant.schema_name}::regnamespace AND NOT g.tgisinternal AND c.relname <> 'deployments_102030' ORDER BY 1`.execute(database.control);
    expect(triggered.rows.map((row) => row.table)).toEqual([...ROW_CHANGE_TABLES].sort());
  });

  it('goes down to announcing from every table again', async () => {
    expect(await subject.migrate({ direction: 'down', toVersion: 3 })).toEqual(['0004_skip_row_notifications_on_citus_shards.sql']);
    await insertBoth();
    expect((await mine()).map((p) => (p as { table: string }).table).sort()).toEqual(['deployments', 'deployments_102030']);
  });
});
