import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { runCli } from '../helpers/run-cli.js';
import { openScratchDatabase } from '../helpers/scratch-database.js';
import { openTestDatabase, seedTenant, templatesWith, tenantTemplate, uniqueSlug } from '../helpers/test-database.js';
import { startTestServer } from '../helpers/test-server.js';

const cli = runCli;

describe('the tenant and migrate CLIs', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('tenant create prints its duration, and migrate status --json shows the tenant at the latest version', async () => {
    const slug = uniqueSlug('cli');
    const created = await cli('tenant', ['create', slug, '--name', 'CLI Co']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^created tenant ${slug} \\("CLI Co", plan basic\\) in \\d+\\.\\d ms`));
    expect(created.stderr).toMatch(/^database: PostgreSQL \d+.* \(from DATABASE_URL\)$/m);
    expect(created.stderr).not.toContain(new URL(inject('databaseUrl')).password || '\u0000');

    const status = await cli('migrate', ['status', '--json']);
    const parsed = JSON.parse(status.stdout) as { tenants: { latestVersion: number; versions: { slug: string; version: number }[] } };
    expect(parsed.tenants.versions).toContainEqual({ slug, version: parsed.tenants.latestVersion, status: 'active' });

    const listed = JSON.parse((await cli('tenant', ['list', '--json'])).stdout) as { slug: string }[];
    expect(listed.map((t) => t.slug)).toContain(slug);
  });

  it('migrate status only reads: on a fresh database it reports the pending control-plane migrations and applies none', async () => {
    const scratch = await openScratchDatabase();
    try {
      const status = await cli('migrate', ['status', '--json'], { DATABASE_URL: scratch.database.url });
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout) as { control: { applied: string[]; pending: string[] } };
      expect(parsed.control.applied).toEqual([]);
      expect(parsed.control.pending.length).toBeGreaterThanOrEqual(5);
      const schema = await sql<{ t: string | null }>`SELECT to_regnamespace('control')::text AS t`.execute(scratch.database.control);
      expect(schema.rows[0]!.t).toBeNull();
    } finally {
      await scratch.drop();
    }
  });

  it('bad input exits with a clear coded error and no stack trace', async () => {
    const hostile = await cli('tenant', ['create', "x'; DROP SCHEMA control; --"]);
    expect(hostile.code).toBe(1);
    expect(hostile.stderr).toMatch(/^error \[INVALID_SLUG\]: invalid tenant slug/m);
    expect(hostile.stderr).not.toMatch(/^database:/m); // refused before connecting
    expect(hostile.stderr).not.toMatch(/\n\s+at /);

    const unforced = await cli('tenant', ['purge', uniqueSlug('nobody')]);
    expect(unforced.code).toBe(1);
    expect(unforced.stderr).toMatch(/error \[FORCE_REQUIRED\]/);

    const usage = await cli('migrate', ['sideways']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage error: unknown command "sideways"/);
  });

  it('every CLI answers --help with its usage, and an unknown option with one line and exit code 2, before touching the database', async () => {
    const scripts = ['tenant', 'migrate', 'token', 'analytics', 'seed', 'start', 'serve'];
    // An unreachable database: a script that got past its arguments would fail differently.
    const nowhere = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const results = await Promise.all(scripts.flatMap((script) => [cli(script, ['--help'], nowhere), cli(script, ['--bogus'], nowhere)]));
    scripts.forEach((script, i) => {
      const [help, bogus] = [results[2 * i]!, results[2 * i + 1]!];
      expect({ script, code: help.code, usage: help.stdout.startsWith('usage:') }).toEqual({ script, code: 0, usage: true });
      expect({ script, code: bogus.code, stderr: bogus.stderr }).toEqual({ script, code: 2, stderr: "usage error: Unknown option '--bogus'\n  --help shows the usage\n" });
    });
  });

  it('npm run token prints a token the API accepts, for the role asked', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'cli_tok');
    const printed = await cli('token', ['--tenant', tenant.slug, '--role', 'member', '--sub', 'dev-1']);
    expect(printed.code).toBe(0);
    const token = printed.stdout.trim();
    const server = await startTestServer({ database });
    try {
      const me = await server.graphql(tenant.slug, 'mutation { createProject(input: { name: "by token" }) { name } }', {}, { as: { token } });
      expect(me.body).toEqual({ data: { createProject: { name: 'by token' } } });
      const admin = await server.graphql(tenant.slug, '{ auditLog { totalCount } }', {}, { as: { token } });
      expect(admin.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await server.close();
    }
    expect((await cli('token', ['--tenant', tenant.slug, '--role', 'root'])).code).toBe(2);
  });

  it('migrate exits 1 and names the failed tenant when one tenant fails', async () => {
    const template = await tenantTemplate();
    const tenant = await seedTenant(database, template, 'cli_fail');
    await withTenantTransaction(database, tenant, {}, (trx) => trx.insertInto('projects').values({ name: 'poison' }).execute());
    const broken = await templatesWith({
      '0101_forbid_poison.sql': "-- migrate:up\nALTER TABLE projects ADD CONSTRAINT no_poison CHECK (name <> 'poison');\n",
    });

    const run = await cli('migrate', ['--tenant', tenant.slug], { SCHEMATA_TEMPLATES_DIR: broken });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/summary \(template version 101\): 0 migrated, 0 already current, 1 failed/);
    expect(run.stdout).toContain(`failed  ${tenant.slug} (at version ${template.latestVersion}) [MIGRATION_FAILED]`);

    const healthy = await seedTenant(database, template, 'cli_ok');
    const ok = await cli('migrate', ['--tenant', healthy.slug], { SCHEMATA_TEMPLATES_DIR: broken });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/1 migrated, 0 already current, 0 failed/);
  });
});
