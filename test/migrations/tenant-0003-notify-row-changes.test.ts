import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { asTenant, listen, tenantAtVersion, type Listener, type TenantUnderTest } from '../helpers/migration-steps.js';

const CHANNEL = 'schemata_row_changed';

/** Tenant migration 0003 on a tenant with data: migrate to 0002, seed, migrate, assert what is announced. */
describe('tenant migration 0003 (row-change notifications)', () => {
  let subject: TenantUnderTest;
  let database: Database;
  let tenant: Tenant;
  let changes: Listener;
  beforeAll(async () => {
    subject = await tenantAtVersion(2, 'mig0003');
    ({ database, tenant } = subject);
    changes = await listen(database.sessionUrl, CHANNEL);
  });
  afterAll(async () => {
    await changes.close();
    await subject.close();
  });

  const mine = async () => (await changes.drain()).filter((payload) => (payload as { schema: string }).schema === tenant.schema_name);

  it('announces inserts and status changes by id only, after commit, and nothing rolled back', async () => {
    const [project] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO projects (name) VALUES ('Engine') RETURNING id`);
    await asTenant(database, tenant, `INSERT INTO deployments (project_id) VALUES ('${project!.id}')`);
    expect(await mine()).toEqual([]);

    expect(await subject.migrate({ direction: 'up', toVersion: 3 })).toEqual(['0003_notify_row_changes.sql']);
    const [deployment] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO deployments (project_id) VALUES ('${project!.id}') RETURNING id`);
    await asTenant(database, tenant, `UPDATE deployments SET status = 'building' WHERE id = '${deployment!.id}'`);
    // Neither another column nor the same status again is a transition.
    await asTenant(database, tenant, `UPDATE deployments SET url = 'https://x.example', status = 'building' WHERE id = '${deployment!.id}'`);
    const [workflow] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO workflows (name) VALUES ('Nightly') RETURNING id`);
    await asTenant(database, tenant, `UPDATE workflows SET status = 'paused' WHERE id = '${workflow!.id}'`);
    const [entry] = await asTenant<{ id: string }>(database, tenant, `INSERT INTO audit_log (action, entity_type) VALUES ('x.done', 'x') RETURNING id`);
    const schema = tenant.schema_name;
    expect(await mine()).toEqual([
      { schema, table: 'deployments', id: deployment!.id, op: 'INSERT' },
      { schema, table: 'deployments', id: deployment!.id, op: 'UPDATE' },
      { schema, table: 'workflows', id: workflow!.id, op: 'INSERT' },
      { schema, table: 'workflows', id: workflow!.id, op: 'UPDATE' },
      { schema, table: 'audit_log', id: entry!.id, op: 'INSERT' },
    ]);

    await expect(asTenant(database, tenant, `INSERT INTO deployments (project_id) VALUES ('${project!.id}'); SELECT 1/0`)).rejects.toMatchObject({ code: '22012' });
    expect(await mine()).toEqual([]);
  });

  it('goes down to 0002 announcing nothing, and up again', async () => {
    expect(await subject.migrate({ direction: 'down', toVersion: 2 })).toEqual(['0003_notify_row_changes.sql']);
    await asTenant(database, tenant, `INSERT INTO workflows (name) VALUES ('Quiet')`);
    expect(await mine()).toEqual([]);
    expect(await subject.migrate({ direction: 'up', toVersion: 3 })).toEqual(['0003_notify_row_changes.sql']);
    await asTenant(database, tenant, `INSERT INTO workflows (name) VALUES ('Loud')`);
    expect(await mine()).toHaveLength(1);
  });
});
