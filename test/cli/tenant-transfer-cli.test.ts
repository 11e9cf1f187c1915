import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../src/control/registry/tenant.repository.js';
import type { Database } from '../../src/db/database.js';
import { runCli } from '../helpers/run-cli.js';
import { fillTenant, tenantContents } from '../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, tenantTemplate, uniqueSlug } from '../helpers/test-database.js';

const tenantCli = (args: string[]) => runCli('tenant', args);

describe('npm run tenant -- export | import | clone', () => {
  let database: Database;
  let dir: string;
  beforeAll(async () => {
    database = await openTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-export-'));
  });
  afterAll(async () => {
    await database.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('export writes only NDJSON to stdout, and import of that file restores every row', async () => {
    const source = await seedTenant(database, await tenantTemplate(), 'cli_exp');
    await fillTenant(database, source, { users: 8, projects: 4, deployments: 120, workflows: 10 });

    const exported = await tenantCli(['export', source.slug]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.split('\n');
    expect(lines.pop()).toBe('');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'schemata-tenant-export', tenant: { slug: source.slug } });
    expect(exported.stderr).toMatch(/^exported tenant \S+ \(template version \d+\): 7 tables, [\d,]+ rows, 0 sequences, \d+ settings, [\d.]+ MiB in \d+ ms$/m);

    const file = path.join(dir, `${source.slug}.ndjson`);
    await fs.writeFile(file, exported.stdout);
    const slug = uniqueSlug('cli_imp');
    const imported = await tenantCli(['import', file, '--as', slug, '--name', 'Imported Co']);
    expect(imported.stderr).not.toMatch(/error/);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`^imported tenant ${slug} \\("Imported Co"\\): 7 tables, [\\d,]+ rows, 0 sequences, \\d+ settings in \\d+ ms$`, 'm'));
    const copy = await findTenantBySlug(database.control, slug);
    expect(await tenantContents(database, copy!.schema_name)).toEqual(await tenantContents(database, source.schema_name));

    const again = await tenantCli(['import', file, '--as', slug]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error \[TENANT_EXISTS\]: /m);

    const cloned = await tenantCli(['clone', source.slug, '--as', uniqueSlug('cli_cln')]);
    expect(cloned.code).toBe(0);
    expect(cloned.stdout).toMatch(/^cloned tenant \S+ to \S+ \(".* \(clone\)"\): 7 tables, [\d,]+ rows, 0 sequences, \d+ settings in \d+ ms$/m);
  }, 180_000);

  it('bad input exits 1 with a coded error, no stack trace, and nothing on stdout for export', async () => {
    const notExport = path.join(dir, 'not-an-export.ndjson');
    await fs.writeFile(notExport, 'id,name\n1,acme\n');
    const cases: [string[], RegExp][] = [
      [['export', uniqueSlug('nobody')], /^error \[TENANT_NOT_FOUND\]: /m],
      [['import', notExport, '--as', uniqueSlug('cli_bad')], /^error \[INVALID_EXPORT\]: /m],
      [['import', path.join(dir, 'missing.ndjson'), '--as', uniqueSlug('cli_bad')], /^error \[INVALID_EXPORT\]: .*cannot be read/m],
      [['clone', uniqueSlug('nobody'), '--as', uniqueSlug('cli_bad')], /^error \[TENANT_NOT_FOUND\]: /m],
      [['import', notExport, '--as', 'Bad Slug'], /^error \[INVALID_SLUG\]: /m],
    ];
    // Each run pays for a tsx start-up, so they run side by side.
    const runs = await Promise.all(cases.map(([args]) => tenantCli(args)));
    for (const [i, [args, expected]] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(expected);
      expect(run.stderr).not.toMatch(/\n\s+at |SELECT|INSERT/);
      expect(run.stdout).toBe('');
    }
    const usage = await tenantCli(['import', notExport]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage error: import needs a file and --as <new-slug>/);
  }, 180_000);

  it('export --without-credentials leaves out password hashes and token rows, and says so', async () => {
    const source = await seedTenant(database, await tenantTemplate(), 'cli_nocred');
    await fillTenant(database, source, { users: 4, projects: 1, deployments: 5, workflows: 1 });
    const exported = await tenantCli(['export', source.slug, '--without-credentials']);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('"table":"users"');
    // fillTenant's known hash, and any column that holds one.
    expect(exported.stdout).not.toContain('scrypt$');
    expect(exported.stdout).not.toContain('token_hash');
    expect(exported.stderr).toMatch(/^ {2}without credentials: no password hashes, no refresh or one-time tokens, no secret settings \(0 left out\)$/m);
  });
});
