import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../src/control/registry/tenant.repository.js';
import type { Database } from '../../src/db/database.js';
import { startAdminTestServer } from '../helpers/admin-server.js';
import { runCli } from '../helpers/run-cli.js';
import { openTestDatabase, uniqueSlug } from '../helpers/test-database.js';

const cli = runCli;

// Each call starts Node and tsx (about a second, more on a loaded machine).
describe('the tenant lifecycle from the CLI', { timeout: 240_000 }, () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('suspend, resume, delete, restore, rename, change-plan, show and purge', async () => {
    const slug = uniqueSlug('cli_life');
    const renamed = uniqueSlug('cli_renamed');
    expect((await cli('tenant', ['create', slug])).code).toBe(0);

    const suspended = await cli('tenant', ['suspend', slug]);
    expect([suspended.code, suspended.stdout.trim()]).toEqual([0, `tenant ${slug}: suspended; status suspended`]);
    expect((await findTenantBySlug(database.control, slug))?.status).toBe('suspended');
    const again = await cli('tenant', ['suspend', slug]);
    expect([again.code, again.stdout.trim()]).toEqual([0, `tenant ${slug}: already suspended, nothing changed`]);
    expect((await cli('tenant', ['resume', slug])).stdout).toContain('status active');

    const deleted = await cli('tenant', ['delete', slug]);
    expect(deleted.stdout).toContain('status deleted');
    const unforced = await cli('tenant', ['purge', slug]);
    expect([unforced.code, unforced.stderr]).toEqual([1, expect.stringMatching(/^error \[FORCE_REQUIRED\]/m)]);
    expect((await cli('tenant', ['restore', slug])).stdout).toContain('status active');

    const rename = await cli('tenant', ['rename', slug, renamed, '--name', 'Renamed Co']);
    expect(rename.stdout).toContain(`renamed tenant ${slug} to ${renamed} ("Renamed Co")`);
    expect((await cli('tenant', ['change-plan', renamed, 'enterprise'])).stdout.trim()).toBe(`tenant ${renamed} is on plan enterprise`);
    const badPlan = await cli('tenant', ['change-plan', renamed, 'gold']);
    expect([badPlan.code, badPlan.stderr]).toEqual([1, expect.stringMatching(/^error \[PLAN_NOT_FOUND\]: no plan named "gold": the plans are (\w+, )*basic, (\w+, )*enterprise\b/m)]);

    const show = JSON.parse((await cli('tenant', ['show', renamed, '--json'])).stdout) as { tenant: { plan: string }; storageBytes: number; health: { behind: boolean } };
    expect(show).toMatchObject({ tenant: { plan: 'enterprise' }, health: { behind: false } });
    expect(show.storageBytes).toBeGreaterThan(0);
    expect((await cli('tenant', ['show', renamed])).stdout).toMatch(/template version \d+ of \d+; drift: none/);

    const live = await cli('tenant', ['purge', renamed, '--force']);
    expect([live.code, live.stderr]).toEqual([1, expect.stringMatching(/^error \[TENANT_NOT_DELETED\]/m)]);
    await cli('tenant', ['delete', renamed]);
    expect((await cli('tenant', ['purge', renamed, '--force'])).code).toBe(0);
    expect(await findTenantBySlug(database.control, renamed)).toBeUndefined();
  });

  it('fleet, analytics and a platform-admin token that /admin/graphql accepts', async () => {
    expect((await cli('tenant', ['create', uniqueSlug('cli_fleet')])).code).toBe(0);
    const fleet = JSON.parse((await cli('tenant', ['fleet', '--json'])).stdout) as { total: number; byStatus: { count: number }[] };
    expect(fleet.total).toBeGreaterThanOrEqual(1);
    expect(fleet.byStatus.reduce((sum, row) => sum + row.count, 0)).toBe(fleet.total);
    const refresh = await cli('analytics', ['refresh']);
    expect([refresh.code, refresh.stdout]).toEqual([0, expect.stringMatching(/^computed .* over \d+ tenants in \d+ ms/)]);
    const shown = JSON.parse((await cli('analytics', ['show', '--json'])).stdout) as { growth: unknown[] };
    expect(shown.growth).toHaveLength(30);

    const issued = await cli('token', ['--platform-admin', '--sub', 'ops']);
    expect(issued.code).toBe(0);
    const admin = await startAdminTestServer(database);
    const response = await admin.admin<{ fleet: { total: number } }>('{ fleet { total } }', undefined, { token: issued.stdout.trim() });
    expect(response.status).toBe(200);
    const misuse = await cli('token', ['--platform-admin', '--tenant', 'acme']);
    expect(misuse.code).toBe(2);
  });
});
