import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTenant } from '../../../src/control/transfer/tenant-clone.service.js';
import { exportTenant } from '../../../src/control/transfer/tenant-export.service.js';
import { importTenant } from '../../../src/control/transfer/tenant-import.service.js';
import { findTenantBySlug } from '../../../src/control/registry/tenant.repository.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../../src/db/control-database.js';
import type { Database } from '../../../src/db/database.js';
import { loadTemplate, type Template } from '../../../src/migrations/template.js';
import { exportText, fillTenant, tenantContents, textStream } from '../../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, templatesWith, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';

describe('bad exports and targets are refused with a code, and leave nothing behind', () => {
  /** Its own pool, so the schemas this file's attempts create can be read off the statements it ran. */
  let database: Database;
  let template: Template;
  let source: Tenant;
  let text: string;
  let lines: string[];
  const statements: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase({ onQuery: (statement) => statements.push(statement) });
    template = await tenantTemplate();
    source = await seedTenant(database, template, 'imp_err');
    await fillTenant(database, source, { users: 5, projects: 3, deployments: 30, workflows: 3 });
    text = await exportText(database, source.slug);
    lines = text.trimEnd().split('\n');
  });
  afterAll(() => database.close());

  const withLine = (index: number, change: (value: Record<string, unknown>) => unknown) =>
    lines.map((line, i) => (i === index ? JSON.stringify(change(JSON.parse(line) as Record<string, unknown>)) : line)).join('\n') + '\n';
  const rowIndex = (table: string) => lines.findIndex((line) => line.startsWith(`{"table":"${table}"`));

  /**
   * Runs a failing import and checks what it left: no registry row for the
   * slug, and no schema or role of any name this attempt created. `sqlBefore`
   * false: it must fail before any provisioning SQL.
   */
  async function refused(attempt: (slug: string) => Promise<unknown>, code: string, options: { sqlBefore?: boolean } = {}): Promise<Error> {
    const slug = uniqueSlug('imp_bad');
    statements.length = 0;
    const error = (await attempt(slug).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(error, `expected ${code}`).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.message).not.toMatch(/INSERT|SELECT|jsonb_|\n\s+at /);
    expect(await findTenantBySlug(database.control, slug)).toBeUndefined();
    const created = statements.flatMap((statement) => [...statement.matchAll(/CREATE SCHEMA "(tenant_[0-9a-f]{32})"/g)].map((m) => m[1]!));
    if (options.sqlBefore === false) expect(created).toEqual([]);
    for (const name of created) {
      const left = await sql<{ schemas: number; roles: number }>`
        SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = ${name}) AS schemas,
               (SELECT count(*)::int FROM pg_roles WHERE rolname = ${name}) AS roles`.execute(database.control);
      expect(left.rows[0], name).toEqual({ schemas: 0, roles: 0 });
    }
    return error;
  }

  const importing = (input: string) => (slug: string) => importTenant(database, template, textStream(input), { slug });

  it('unknown source slug: TENANT_NOT_FOUND', async () => {
    await refused(() => exportTenant(database, uniqueSlug('nobody')), 'TENANT_NOT_FOUND');
    await refused((slug) => cloneTenant(database, template, uniqueSlug('nobody'), { slug }), 'TENANT_NOT_FOUND');
  });

  it('existing target slug: TENANT_EXISTS, and the existing tenant keeps its rows', async () => {
    const before = await tenantContents(database, source.schema_name);
    await refused(() => importTenant(database, template, textStream(text), { slug: source.slug }), 'TENANT_EXISTS');
    await refused(() => cloneTenant(database, template, source.slug, { slug: source.slug }), 'TENANT_EXISTS');
    expect(await tenantContents(database, source.schema_name)).toEqual(before);
  });

  it('a hostile target slug: INVALID_SLUG before any SQL', async () => {
    await refused(() => importTenant(database, template, textStream(text), { slug: 'x"; DROP SCHEMA control; --' }), 'INVALID_SLUG', { sqlBefore: false });
  });

  it('a file that is not a schemata export: INVALID_EXPORT before any SQL', async () => {
    for (const input of ['', '\n\n', 'hello, world\n', '{"format":"something-else"}\n', '[1,2,3]\n', '\u0000\u0001binary\u00ff']) {
      await refused(importing(input), 'INVALID_EXPORT', { sqlBefore: false });
    }
    await refused(importing(withLine(0, (h) => ({ ...h, formatVersion: 2 }))), 'INVALID_EXPORT', { sqlBefore: false });
    await refused(importing(withLine(0, (h) => ({ ...h, templateVersion: 'two' }))), 'INVALID_EXPORT', { sqlBefore: false });
    // Written under an edited template file: the rows may not fit this server's schema.
    await refused(
      importing(withLine(0, (h) => ({ ...h, migrations: (h.migrations as { name: string }[]).map((m) => ({ ...m, checksum: 'edited' })) }))),
      'INVALID_EXPORT',
      { sqlBefore: false },
    );
  });

  it('a header newer than this server\u2019s templates: EXPORT_TOO_NEW before any SQL', async () => {
    const error = await refused(importing(withLine(0, (h) => ({ ...h, templateVersion: 9999 }))), 'EXPORT_TOO_NEW', { sqlBefore: false });
    expect(error.message).toContain('9999');
  });

  it('a truncated file: EXPORT_TRUNCATED, whether cut mid-line, at a line end, or missing rows', async () => {
    await refused(importing(text.slice(0, Math.floor(text.length * 0.6))), 'EXPORT_TRUNCATED');
    await refused(importing(lines.slice(0, -1).join('\n') + '\n'), 'EXPORT_TRUNCATED');
    await refused(importing(lines.slice(0, -4).join('\n')), 'EXPORT_TRUNCATED');
    // A deployment line gone from the middle (nothing references deployments, so only the trailer's count can tell).
    const deployment = rowIndex('deployments');
    await refused(importing([...lines.slice(0, deployment), ...lines.slice(deployment + 1)].join('\n') + '\n'), 'EXPORT_TRUNCATED');
    await refused(importing(lines[0]!.slice(0, 60)), 'EXPORT_TRUNCATED', { sqlBefore: false });
  });

  it('a row for an unknown table or column, a broken line, or a value the database refuses: INVALID_EXPORT', async () => {
    const users = rowIndex('users');
    const unknownTable = await refused(importing(withLine(users, (r) => ({ ...r, table: 'pg_authid' }))), 'INVALID_EXPORT');
    expect(unknownTable.message).toContain('"pg_authid"');
    const unknownColumn = await refused(
      importing(withLine(users, (r) => ({ ...r, row: { ...(r.row as object), 'name"; DROP TABLE users; --': 1 } }))),
      'INVALID_EXPORT',
    );
    expect(unknownColumn.message).toMatch(/has no column/);
    await refused(importing(withLine(users, () => 'just a string')), 'INVALID_EXPORT');
    await refused(importing(lines.map((line, i) => (i === users ? '{"table": "users", "row": ' : line)).join('\n') + '\n'), 'INVALID_EXPORT');
    const refusedValue = await refused(
      importing(withLine(rowIndex('deployments'), (r) => ({ ...r, row: { ...(r.row as object), status: 'exploded' } }))),
      'INVALID_EXPORT',
    );
    expect(refusedValue.message).toMatch(/rows of table "deployments" .* refused: .*check constraint/);
    await refused(importing(withLine(users, (r) => ({ ...r, row: { ...(r.row as object), id: 'not-a-uuid' } }))), 'INVALID_EXPORT');
    await refused(importing(`${text}{"table":"users","row":{}}\n`), 'INVALID_EXPORT');
    const trailer = lines.length - 1;
    await refused(importing(withLine(trailer, (t) => ({ ...t, rowCounts: { ...(t.rowCounts as object), constructor: 0 } }))), 'INVALID_EXPORT');
  });

  it('a plan this server does not have: INVALID_EXPORT naming the plan', async () => {
    const error = await refused(importing(withLine(0, (h) => ({ ...h, tenant: { ...(h.tenant as object), plan: 'only_elsewhere' } }))), 'INVALID_EXPORT');
    expect(error.message).toMatch(/plan "only_elsewhere", which this server does not have; create the plan first/);
  });

  it('a sequence value the database refuses (below its minimum, past bigint): INVALID_EXPORT naming the sequence', async () => {
    const withSequence = await loadTemplate(await templatesWith({ '0101_create_invoice_numbers.sql': '-- migrate:up\nCREATE SEQUENCE invoice_numbers START 1000;\n' }), 'tenant');
    const { tenant } = await createTenant(database, withSequence, { slug: uniqueSlug('imp_seq') });
    const exported = (await exportText(database, tenant.slug)).trimEnd().split('\n');
    const at = exported.findIndex((line) => line.startsWith('{"sequence":"invoice_numbers"'));
    expect(at).toBeGreaterThan(0);
    for (const value of ['0', '9999999999999999999']) {
      const edited = exported.map((line, i) => (i === at ? JSON.stringify({ ...(JSON.parse(line) as object), value }) : line)).join('\n') + '\n';
      const error = await refused((slug) => importTenant(database, withSequence, textStream(edited), { slug }), 'INVALID_EXPORT');
      expect(error.message).toContain(`line ${at + 1}: the value ${value} of sequence "invoice_numbers" was refused`);
    }
  });
});
