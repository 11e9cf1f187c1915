import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantRegistry } from '../../../src/control/registry/tenant-registry.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { openScratchDatabase, type ScratchDatabase } from '../../helpers/scratch-database.js';
import { loadTemplate } from '../../../src/migrations/template.js';
import { seedTenant, tenantTemplate, TEMPLATES_DIR } from '../../helpers/test-database.js';

describe('the tenant registry cache', () => {
  // A database of its own: the race test counts on no other tenant changing
  // meanwhile, and the shared test database has every other file's tenants.
  let scratch: ScratchDatabase;
  let database: Database;
  let registry: TenantRegistry;
  let tenant: Tenant;

  beforeAll(async () => {
    scratch = await openScratchDatabase();
    database = scratch.database;
    await migrateControlPlane(database, await loadTemplate(TEMPLATES_DIR, 'control'));
    // Seeded before the registry listens: the creation's notification would otherwise land during a test.
    tenant = await seedTenant(database, await tenantTemplate(), 'registry');
    registry = await TenantRegistry.start(database);
  });
  afterAll(async () => {
    await registry.close();
    await scratch.drop();
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
