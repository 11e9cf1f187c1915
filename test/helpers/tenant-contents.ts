import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { exportTenant, type ExportOptions } from '../../src/control/transfer/tenant-export.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { insertDemoData } from '../../src/seed/demo-data.repository.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';

export interface TableContents {
  readonly rows: number;
  readonly hash: string;
}

/**
 * Row count and a content hash of every table of a tenant schema except the
 * ledger, computed by Postgres from each row's own text form (`t::text`), so
 * it does not rely on the JSON the export writes. `without` leaves columns
 * out (hashing `to_jsonb(t)` minus them instead), for comparing a table
 * across a migration that added them.
 */
export async function tenantContents(database: Database, schema: string, without: Record<string, readonly string[]> = {}): Promise<Record<string, TableContents>> {
  const tables = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind = 'r' AND c.relname <> 'schema_migrations' ORDER BY c.relname`.execute(database.control);
  const contents: Record<string, TableContents> = {};
  for (const { name } of tables.rows) {
    const dropped = without[name] ?? [];
    const text = dropped.length > 0 ? sql`(to_jsonb(t) - ${[...dropped]}::text[])::text` : sql`t::text`;
    const result = await sql<TableContents>`
      SELECT count(*)::int AS rows, md5(coalesce(string_agg(${text}, E'\\n' ORDER BY ${text}), '')) AS hash
      FROM ${sql.id(schema, name)} AS t`.execute(database.control);
    contents[name] = result.rows[0]!;
  }
  return contents;
}

/**
 * Demo rows (users, projects, deployments, workflows, audit) plus values that
 * are easy to lose: unicode and control characters, microsecond timestamps,
 * nested jsonb with big and precise numbers, NULLs, tokens that reference users.
 */
export async function fillTenant(database: Database, tenant: Tenant, size = { users: 20, projects: 6, deployments: 300, workflows: 60 }): Promise<void> {
  await withTenantTransaction(database, tenant, { statementTimeoutMs: 30_000 }, async (trx) => {
    await insertDemoData(trx, tenant.slug, size);
    await sql`
      INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES
        ('zoë@example.org', ${'Zoë "Z" O\'Brien\nline two\ttab \\ backslash 🚀 日本語 \u2028'}, 'admin', 'scrypt$abc$def', '2026-02-03 04:05:06.123456+00', '2026-02-03 04:05:06.654321+00'),
        ('null.pw@example.org', 'No Password', 'viewer', NULL, '1999-12-31 23:59:59.999999+00', '2000-01-01 00:00:00.000001+00')`.execute(trx);
    await sql`
      INSERT INTO projects (name, description, created_by) VALUES
        ('awkward', ${'multi\nline\r\ndescription with "quotes", commas, {braces} and \u0001 control'}, (SELECT id FROM users WHERE email = 'zoë@example.org')),
        ('no-description', NULL, NULL)`.execute(trx);
    await sql`
      INSERT INTO deployments (project_id, status, environment, url, created_by, created_at, updated_at, finished_at) VALUES
        ((SELECT id FROM projects WHERE name = 'awkward'), 'failed', 'preview-1', NULL, NULL,
         '2026-05-06 07:08:09.000001+00', '2026-05-06 07:08:09.999999+00', '2026-05-06 07:08:10.5+00')`.execute(trx);
    await sql`
      INSERT INTO workflows (name, status, config) VALUES
        ('precise', 'paused', ${JSON.stringify({ nested: { list: [1, 'two', null, true, { deep: 'ü' }] }, empty: {}, '': 'empty key', text: 'a\nb' })}::jsonb
           || '{"big": 123456789012345678901234567890, "precise": 0.10000000000000000000000000001, "neg": -1.5e-300}'::jsonb)`.execute(trx);
    await sql`
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, used_at)
      SELECT id, gen_random_uuid(), md5(email), '2030-01-01 00:00:00.123456+00', NULL FROM users WHERE role = 'admin'`.execute(trx);
    await sql`
      INSERT INTO one_time_tokens (user_id, purpose, token_hash, expires_at)
      SELECT id, 'invite', md5(email || 'invite'), '2030-01-01 00:00:00+00' FROM users WHERE role = 'viewer'`.execute(trx);
    await sql`INSERT INTO audit_log (actor_id, action, entity_type, entity_id, details) VALUES (NULL, 'test.awkward', 'project', NULL, '{"before": null, "after": [1.0, 2.50]}')`.execute(trx);
  });
}

/** A whole export as text, for tests that edit it. */
export async function exportText(database: Database, slug: string, options: ExportOptions = {}): Promise<string> {
  const exported = await exportTenant(database, slug, options);
  let text = '';
  for await (const chunk of exported.lines) text += chunk;
  return text;
}

export function textStream(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}
