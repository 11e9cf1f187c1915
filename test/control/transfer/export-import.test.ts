import { Readable } from 'node:stream';
import { sql, type ControlledTransaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantAuth } from '../../../src/auth/tenant-auth.repository.js';
import { exportTenant } from '../../../src/control/transfer/tenant-export.service.js';
import { importTenant } from '../../../src/control/transfer/tenant-import.service.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import type { ControlDatabase } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { LOCK_NAMESPACE, lockSchema } from '../../../src/db/schema-locks.js';
import { loadTemplate, type Template } from '../../../src/migrations/template.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { eventually } from '../../helpers/eventually.js';
import { exportText, fillTenant, tenantContents, textStream } from '../../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, templatesWith, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';

describe('tenant export and import', () => {
  let database: Database;
  let template: Template;

  beforeAll(async () => {
    database = await openTestDatabase();
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  it("an export reads as the tenant's own role: rows the tenant role cannot see are not exported", async () => {
    // A row-level policy hides one project from the tenant role; the server's login role (a superuser here) bypasses it.
    const hiding = await loadTemplate(
      await templatesWith({
        '0101_hide_some_projects.sql':
          "-- migrate:up\nALTER TABLE projects ENABLE ROW LEVEL SECURITY;\nCREATE POLICY visible ON projects USING (name <> 'hidden');\n" +
          '-- migrate:down\nDROP POLICY visible ON projects;\nALTER TABLE projects DISABLE ROW LEVEL SECURITY;\n',
      }),
      'tenant',
    );
    const tenant = (await createTenant(database, hiding, { slug: uniqueSlug('exp_rls') })).tenant;
    await sql`INSERT INTO ${sql.id(tenant.schema_name, 'projects')} (name) VALUES ('shown'), ('also shown'), ('hidden')`.execute(database.control);
    // Control: the rows are there for a role that bypasses the policy.
    const all = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(tenant.schema_name, 'projects')}`.execute(database.control);
    expect(all.rows[0]!.n).toBe(3);

    const lines = (await exportText(database, tenant.slug)).trimEnd().split('\n').map((line) => JSON.parse(line) as { table?: string; row?: { name: string } });
    expect(lines.filter((line) => line.table === 'projects').map((line) => line.row!.name).sort()).toEqual(['also shown', 'shown']);
  });

  it('an imported export has every row of every table unchanged, in a new tenant at the template head', async () => {
    const source = await seedTenant(database, template, 'exp_src');
    await fillTenant(database, source);
    const exported = await exportTenant(database, source.slug);
    const imported = await importTenant(database, template, Readable.from(exported.lines), { slug: uniqueSlug('exp_copy') });

    const before = await tenantContents(database, source.schema_name);
    const after = await tenantContents(database, imported.tenant.schema_name);
    expect(Object.keys(before)).toEqual(['audit_log', 'deployments', 'one_time_tokens', 'projects', 'refresh_tokens', 'users', 'workflows']);
    for (const table of Object.keys(before)) expect(before[table]!.rows, table).toBeGreaterThan(0);
    expect(after).toEqual(before);

    const summary = exported.summary!;
    expect(summary.rows).toBe(Object.values(before).reduce((sum, table) => sum + table.rows, 0));
    expect(imported.rows).toBe(summary.rows);
    expect(imported.rowCounts).toEqual(summary.rowCounts);
    expect(imported.fromVersion).toBe(template.latestVersion);
    expect(imported.tenant).toMatchObject({ name: source.name, plan: source.plan, status: 'active', template_version: template.latestVersion });
    expect(imported.tenant.schema_name).not.toBe(source.schema_name);
    const ledger = await sql<{ name: string }>`SELECT name FROM ${sql.id(imported.tenant.schema_name, 'schema_migrations')} ORDER BY name`.execute(database.control);
    expect(ledger.rows.map((row) => row.name)).toEqual(template.migrations.map((m) => m.name));
    // Its own signing secret: tokens of the source must not verify for the copy.
    const [sourceAuth, copyAuth] = await Promise.all([findTenantAuth(database.control, source.id), findTenantAuth(database.control, imported.tenant.id)]);
    expect(copyAuth!.hmac_secret).not.toBe(sourceAuth!.hmac_secret);
  });

  it('the header names the template version and files, and the trailer counts every table', async () => {
    const source = await seedTenant(database, template, 'exp_hdr');
    await fillTenant(database, source, { users: 3, projects: 2, deployments: 5, workflows: 1 });
    const lines = (await exportText(database, source.slug)).trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(header).toMatchObject({
      format: 'schemata-tenant-export',
      formatVersion: 1,
      templateVersion: template.latestVersion,
      migrations: template.migrations.map((m) => ({ name: m.name, checksum: m.checksum })),
      tenant: { slug: source.slug, name: source.name, plan: source.plan },
    });
    const rows = lines.slice(1, -1).map((line) => JSON.parse(line) as { table: string });
    // Parents before children: every user before any project, every project before any deployment.
    const firstOf = (table: string) => rows.findIndex((row) => row.table === table);
    const lastOf = (table: string) => rows.findLastIndex((row) => row.table === table);
    expect(lastOf('users')).toBeLessThan(firstOf('projects'));
    expect(lastOf('projects')).toBeLessThan(firstOf('deployments'));
    expect(lastOf('users')).toBeLessThan(firstOf('refresh_tokens'));
    expect(rows.some((row) => row.table === 'schema_migrations')).toBe(false);
    const trailer = JSON.parse(lines.at(-1)!) as { end: string; rowCounts: Record<string, number>; rows: number };
    expect(trailer.end).toBe('schemata-tenant-export');
    expect(trailer.rows).toBe(rows.length);
    expect(Object.keys(trailer.rowCounts).sort()).toEqual(Object.keys(await tenantContents(database, source.schema_name)));
  });

  it('an export made at an older template version is loaded at that version, then migrated to the head', async () => {
    const source = await seedTenant(database, template, 'exp_old');
    await fillTenant(database, source, { users: 5, projects: 4, deployments: 40, workflows: 5 });
    const text = await exportText(database, source.slug);

    // 0101 backfills a NOT NULL column from existing rows: it only succeeds if the rows were there before it ran.
    const newer = await loadTemplate(
      await templatesWith({
        '0101_add_project_name_length.sql':
          '-- migrate:up\nALTER TABLE projects ADD COLUMN name_length integer;\nUPDATE projects SET name_length = length(name);\nALTER TABLE projects ALTER COLUMN name_length SET NOT NULL;\n',
      }),
      'tenant',
    );
    const imported = await importTenant(database, newer, textStream(text), { slug: uniqueSlug('exp_new'), name: 'Migrated Copy' });

    expect(imported.fromVersion).toBe(template.latestVersion);
    expect(imported.tenant).toMatchObject({ name: 'Migrated Copy', template_version: 101 });
    const schema = imported.tenant.schema_name;
    const backfilled = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.id(schema, 'projects')} WHERE name_length = length(name)`.execute(database.control);
    expect(backfilled.rows[0]!.n).toBe((await tenantContents(database, source.schema_name)).projects!.rows);
    expect(await tenantContents(database, schema, { projects: ['name_length'] })).toEqual(await tenantContents(database, source.schema_name, { projects: ['name_length'] }));
    const ledger = await sql<{ name: string }>`SELECT name FROM ${sql.id(schema, 'schema_migrations')} ORDER BY name`.execute(database.control);
    expect(ledger.rows.map((row) => row.name)).toEqual(newer.migrations.map((m) => m.name));
  });

  it('an export written while the ledger held a text a file now supersedes still imports, and an unknown checksum still does not', async () => {
    const source = await seedTenant(database, template, 'exp_sup');
    await fillTenant(database, source, { users: 3, projects: 2, deployments: 2, workflows: 1 });
    const identity = template.migrations.find((m) => m.name === '0002_add_identity.sql')!;
    expect(identity.supersededChecksums).toHaveLength(1);
    // As a tenant migrated before the file named its constraints records it.
    await sql`UPDATE ${sql.id(source.schema_name, 'schema_migrations')} SET checksum = ${identity.supersededChecksums[0]!} WHERE name = ${identity.name}`.execute(database.control);
    const text = await exportText(database, source.slug);
    expect((JSON.parse(text.slice(0, text.indexOf('\n'))) as { migrations: { name: string; checksum: string }[] }).migrations).toContainEqual({
      name: identity.name,
      checksum: identity.supersededChecksums[0],
    });

    const imported = await importTenant(database, template, textStream(text), { slug: uniqueSlug('exp_sup_copy') });
    expect(await tenantContents(database, imported.tenant.schema_name)).toEqual(await tenantContents(database, source.schema_name));

    const unknown = text.replace(identity.supersededChecksums[0]!, 'f'.repeat(64));
    await expect(importTenant(database, template, textStream(unknown), { slug: uniqueSlug('exp_sup_bad') })).rejects.toMatchObject({
      code: 'INVALID_EXPORT',
      message: expect.stringContaining(`${identity.name} differ from this server's files`),
    });
  });

  it('tables a later template adds round-trip too: identity and generated columns, numerics, arrays, sequences, found in foreign-key order', async () => {
    // "annotations" sorts before "projects" but references it, so loading by name would fail.
    const withNotes = await loadTemplate(
      await templatesWith({
        '0101_create_annotations.sql': `-- migrate:up
CREATE TABLE annotations (
  id          bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT annotations_pkey PRIMARY KEY,
  project_id  uuid NOT NULL CONSTRAINT annotations_project_id_fkey REFERENCES projects (id),
  amount      numeric(40, 20),
  body        text,
  body_length integer GENERATED ALWAYS AS (length(body)) STORED,
  tags        text[],
  at          timestamp
);
CREATE SEQUENCE invoice_numbers START 1000;
`,
      }),
      'tenant',
    );
    const { tenant: source } = await createTenant(database, withNotes, { slug: uniqueSlug('exp_fut') });
    await fillTenant(database, source, { users: 3, projects: 3, deployments: 3, workflows: 1 });
    await withTenantTransaction(database, source, {}, async (trx) => {
      await sql`INSERT INTO annotations (project_id, amount, body, tags, at)
        SELECT id, 12345678901234567890.12345678901234567891, 'note ' || name, ARRAY['a', 'b,c', NULL, '"q"'], '2026-01-01 00:00:00.000007'
        FROM projects`.execute(trx);
      await sql`DELETE FROM annotations WHERE id = 1`.execute(trx);
      await sql`SELECT nextval('invoice_numbers'), nextval('invoice_numbers')`.execute(trx);
    });

    const exported = await exportTenant(database, source.slug);
    const imported = await importTenant(database, withNotes, Readable.from(exported.lines), { slug: uniqueSlug('exp_fut_copy') });
    expect(exported.summary!.sequences).toBe(2); // the identity's and invoice_numbers
    expect(await tenantContents(database, imported.tenant.schema_name)).toEqual(await tenantContents(database, source.schema_name));

    // The sequences carry on where the source's stood.
    const next = (schema: string) =>
      withTenantTransaction(database, { schema_name: schema }, {}, async (trx) => {
        const project = await sql<{ id: string }>`SELECT id FROM projects LIMIT 1`.execute(trx);
        const note = await sql<{ id: string }>`INSERT INTO annotations (project_id) VALUES (${project.rows[0]!.id}) RETURNING id`.execute(trx);
        const invoice = await sql<{ n: string }>`SELECT nextval('invoice_numbers') AS n`.execute(trx);
        return { note: note.rows[0]!.id, invoice: invoice.rows[0]!.n };
      });
    expect(await next(imported.tenant.schema_name)).toEqual(await next(source.schema_name));
  });

  it('a consumer that stops early gives the connection back, clean', async () => {
    const own = await openTestDatabase();
    try {
      const source = await seedTenant(own, template, 'exp_stop');
      await fillTenant(own, source, { users: 20, projects: 6, deployments: 600, workflows: 10 });
      const busy = () => own.pool.totalCount - own.pool.idleCount;
      expect(busy()).toBe(0);

      // Stopped inside the deployments table, with its cursor open.
      const exported = await exportTenant(own, source.slug);
      await exported.lines.next();
      await exported.lines.next();
      // The reading connection and the one holding the migration lock (see holdSchemaForReading).
      expect(busy()).toBe(2);
      await exported.lines.return(undefined);
      expect(busy()).toBe(0);
      expect(exported.summary).toBeUndefined();

      // The same through a Node stream that is destroyed, as when an HTTP client disconnects.
      const stream = Readable.from((await exportTenant(own, source.slug)).lines);
      for await (const chunk of stream) {
        expect(String(chunk)).toMatch(/^\{"format":"schemata-tenant-export"/);
        break;
      }
      expect(await eventually(async () => busy(), (n) => n === 0)).toBe(0);

      const session = await own.pool.query<{ role: string; isolation: string; path: string }>(
        `SELECT current_user AS role, current_setting('transaction_isolation') AS isolation, current_setting('search_path') AS path`,
      );
      expect(session.rows[0]!.role).not.toMatch(/^tenant_/);
      expect(session.rows[0]!.isolation).toBe('read committed');
      expect(session.rows[0]!.path).not.toMatch(/tenant_/);
    } finally {
      await own.close();
    }
  });

  it('an export is one snapshot: rows written while it streams are not in it', async () => {
    const source = await seedTenant(database, template, 'exp_snap');
    // Enough workflows (exported early) that the first chunk comes before deployments (exported last) are read.
    await fillTenant(database, source, { users: 5, projects: 3, deployments: 50, workflows: 500 });
    const before = await tenantContents(database, source.schema_name);
    const exported = await exportTenant(database, source.slug);
    let text = String((await exported.lines.next()).value);
    expect(text).not.toContain('{"table":"deployments"');
    await withTenantTransaction(database, source, {}, async (trx) => {
      await sql`INSERT INTO workflows (name) VALUES ('late')`.execute(trx);
      await sql`DELETE FROM deployments`.execute(trx);
    });
    for await (const chunk of exported.lines) text += chunk;
    const copy = await importTenant(database, template, textStream(text), { slug: uniqueSlug('exp_snap_copy') });
    expect(await tenantContents(database, copy.tenant.schema_name)).toEqual(before);
  });

  /**
   * A migration of `schema` in progress, not yet committed, that rewrote
   * workflows (a volatile default rewrites every row). A snapshot taken
   * before it commits sees the rewritten table as empty. `locked`: it holds
   * the schema's lock, as every migrator does.
   */
  async function rewriteInProgress(schema: string, locked: boolean): Promise<ControlledTransaction<ControlDatabase>> {
    const trx = await database.control.startTransaction().execute();
    if (locked) await lockSchema(trx, schema);
    await sql`ALTER TABLE ${sql.id(schema, 'workflows')} ADD COLUMN rewritten integer DEFAULT (random() * 0)::integer`.execute(trx);
    await sql`ALTER TABLE ${sql.id(schema, 'workflows')} DROP COLUMN rewritten`.execute(trx);
    return trx;
  }

  /** Whether some session waits for `schema`'s migration lock (advisory) or for its workflows table (relation). */
  const waiting = (schema: string, on: 'advisory' | 'relation') => async () => {
    const found = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND (
        ${on} = 'advisory' AND locktype = 'advisory' AND classid = ${LOCK_NAMESPACE}::oid AND objid = hashtext(${schema})::oid OR
        ${on} = 'relation' AND locktype = 'relation' AND relation = format('%I.%I', ${schema}::text, 'workflows')::regclass)`.execute(database.control);
    return found.rows[0]!.n;
  };

  it('an export waits for a migration in progress, so a table the migration rewrote is not read as empty', async () => {
    const source = await seedTenant(database, template, 'exp_mig');
    await fillTenant(database, source, { users: 3, projects: 2, deployments: 10, workflows: 20 });
    const workflows = (await tenantContents(database, source.schema_name)).workflows!.rows;

    const migration = await rewriteInProgress(source.schema_name, true);
    const exporting = exportText(database, source.slug);
    try {
      expect(await eventually(waiting(source.schema_name, 'advisory'), (n) => n > 0, 10_000)).toBe(1);
    } finally {
      await migration.commit().execute();
    }
    const trailer = JSON.parse((await exporting).trimEnd().split('\n').at(-1)!) as { rowCounts: Record<string, number> };
    expect(trailer.rowCounts.workflows).toBe(workflows);

    // The control: a rewrite that skips the lock lands after the export's snapshot, and its table reads as empty.
    const unlocked = await rewriteInProgress(source.schema_name, false);
    const racing = exportText(database, source.slug);
    try {
      expect(await eventually(waiting(source.schema_name, 'relation'), (n) => n > 0, 10_000)).toBe(1);
    } finally {
      await unlocked.commit().execute();
    }
    const raced = JSON.parse((await racing).trimEnd().split('\n').at(-1)!) as { rowCounts: Record<string, number> };
    expect(raced.rowCounts.workflows).toBe(0);
  });

  it('a migration of the tenant waits while an export of it is open; other exports do not', async () => {
    const source = await seedTenant(database, template, 'exp_hold');
    await fillTenant(database, source, { users: 3, projects: 2, deployments: 10, workflows: 5 });
    const migrationLock = () =>
      database.control
        .transaction()
        .execute(async (trx) => {
          await sql`SET LOCAL lock_timeout = '200ms'`.execute(trx);
          await lockSchema(trx, source.schema_name);
        })
        .then(
          () => 'taken',
          (error: { code?: string }) => error.code,
        );

    expect(await migrationLock()).toBe('taken');
    const exported = await exportTenant(database, source.slug);
    await exported.lines.next();
    expect(await migrationLock()).toBe('55P03'); // lock_not_available
    expect(await exportText(database, source.slug)).toMatch(/"end":"schemata-tenant-export"/);
    for await (const chunk of exported.lines) expect(chunk).toBeTypeOf('string');
    expect(await migrationLock()).toBe('taken');
  });
});
