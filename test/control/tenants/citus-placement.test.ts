import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveTenantToCitusNode } from '../../../src/control/tenants/citus-placement.service.js';
import { tenantUsage } from '../../../src/control/usage/tenant-usage.service.js';
import type { Database } from '../../../src/db/database.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

/** On plain PostgreSQL (the suite's): Citus placement is absent, and a Citus move is refused with a code before anything runs. */
describe('Citus placement on plain PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('usage reports no Citus nodes, and a move answers CITUS_REQUIRED', async () => {
    const template = await tenantTemplate();
    const tenant = await seedTenant(database, template, 'placement');
    expect((await tenantUsage(database, template, tenant)).citusNodes).toBeUndefined();
    await expect(moveTenantToCitusNode(database, tenant.slug, '127.0.0.1:9701')).rejects.toMatchObject({ code: 'CITUS_REQUIRED' });
  });

  it('on a coordinator, a node that is not host:port is refused before the tenant is even looked up', async () => {
    const asIfCitus = { ...database, citusVersion: '13.2-1' };
    await expect(moveTenantToCitusNode(asIfCitus, 'no_such_tenant', 'worker-2')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'node' } });
    await expect(moveTenantToCitusNode(asIfCitus, 'no_such_tenant', '10.0.0.7:99999')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(moveTenantToCitusNode(asIfCitus, 'no_such_tenant', '10.0.0.7:5432')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});
