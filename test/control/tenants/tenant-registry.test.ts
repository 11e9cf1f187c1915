import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantRegistry } from '../../../src/control/tenants/tenant-registry.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../../helpers/test-database.js';

describe('the tenant registry cache', () => {
  let database: Database;
  let registry: TenantRegistry;
  let tenant: Tenant;

  beforeAll(async () => {
    database = await openTestDatabase();
    registry = await TenantRegistry.start(database);
    tenant = await seedTenant(database, await tenantTemplate(), 'registry');
  });
  afterAll(async () => {
    await registry.close();
    await database.close();
  });

  it('is proven before it caches: a fresh registry on a working channel is synced once started', () => {
    expect(registry.synced).toBe(true);
  });

  it('does not keep a row it read while a change to the tenant arrived (the change may postdate the read)', async () => {
    registry.invalidate({ id: tenant.id, slugs: [tenant.slug] });
    const racing = registry.findBySlug(tenant.slug);
    // The notification of a suspension lands while the lookup is in flight.
    registry.invalidate({ id: tenant.id, slugs: [tenant.slug] });
    expect((await racing)?.id).toBe(tenant.id);
    expect(registry.size).toBe(0);
    // Control: the same lookup with nothing arriving is cached.
    await registry.findBySlug(tenant.slug);
    expect(registry.size).toBe(1);
  });
});
