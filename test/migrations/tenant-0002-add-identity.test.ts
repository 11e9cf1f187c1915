import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { migrateTenantInTransaction } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { splitStatements } from '../../src/migrations/sql-statements.js';
import { loadTemplate, type Template, type TemplateMigration } from '../../src/migrations/template.js';
import { asTenant, relationsIn, tenantAtVersion, type TenantUnderTest } from '../helpers/migration-steps.js';
import { templatesWith, tenantTemplate } from '../helpers/test-database.js';

const TOKEN = (hash: string, user: string) => `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ('${user}', gen_random_uuid(), '${hash}', now() + interval '1 day')`;

/** Tenant migration 0002 on a tenant that already has users: migrate to 0001, seed, migrate, assert. */
describe('tenant migration 0002 (passwords, refresh and one-time tokens)', () => {
  let subject: TenantUnderTest;
  let database: Database;
  let tenant: Tenant;
  beforeAll(async () => {
    subject = await tenantAtVersion(1, 'mig0002');
    ({ database, tenant } = subject);
  });
  afterAll(() => subject.close());

  it('keeps the users a tenant had, gives them no password, and adds token tables the tenant role can use', async () => {
    await asTenant(database, tenant, `INSERT INTO users (email, name, role) VALUES ('ada@x.example', 'Ada', 'admin'), ('bob@x.example', 'Bob', 'viewer')`);
    await asTenant(database, tenant, `INSERT INTO projects (name) VALUES ('Engine')`);

    expect(await subject.migrate({ direction: 'up', toVersion: 2 })).toEqual(['0002_add_identity.sql']);
    expect(await asTenant(database, tenant, `SELECT email, role, password_hash FROM users ORDER BY email`)).toEqual([
      { email: 'ada@x.example', role: 'admin', password_hash: null },
      { email: 'bob@x.example', role: 'viewer', password_hash: null },
    ]);
    expect(await asTenant(database, tenant, `SELECT name FROM projects`)).toEqual([{ name: 'Engine' }]);

    const [ada] = await asTenant<{ id: string }>(database, tenant, `UPDATE users SET password_hash = 'scrypt$16384$8$1$salt$hash' WHERE email = 'ada@x.example' RETURNING id`);
    await asTenant(database, tenant, TOKEN('hash-1', ada!.id));
    await asTenant(database, tenant, `INSERT INTO one_time_tokens (user_id, purpose, token_hash, expires_at) VALUES ('${ada!.id}', 'invite', 'once-1', now())`);

    for (const [label, statement, code] of [
      ['a password hash that is not scrypt', `UPDATE users SET password_hash = 'hunter2'`, '23514'],
      ['a refresh token hash used twice', TOKEN('hash-1', ada!.id), '23505'],
      ['a refresh token of no user', TOKEN('hash-2', '00000000-0000-4000-8000-000000000000'), '23503'],
      ['an unknown one-time purpose', `INSERT INTO one_time_tokens (user_id, purpose, token_hash, expires_at) VALUES ('${ada!.id}', 'login', 'once-2', now())`, '23514'],
      // The ledger stays the owner's, also for files that add tables.
      ['the tenant role reading the ledger', `SELECT * FROM schema_migrations`, '42501'],
    ] as const) {
      await expect(asTenant(database, tenant, statement), label).rejects.toMatchObject({ code });
    }

    // A user's tokens go with the user.
    await asTenant(database, tenant, `DELETE FROM users WHERE email = 'ada@x.example'`);
    expect(await asTenant(database, tenant, `SELECT (SELECT count(*) FROM refresh_tokens)::int AS refresh, (SELECT count(*) FROM one_time_tokens)::int AS once`)).toEqual([
      { refresh: 0, once: 0 },
    ]);
  });

  it('goes down to 0001 keeping the users and up again', async () => {
    expect(await subject.migrate({ direction: 'down', toVersion: 1 })).toEqual(['0002_add_identity.sql']);
    const tables = await relationsIn(database, tenant.schema_name);
    expect(tables).not.toContain('refresh_tokens');
    expect(tables).not.toContain('one_time_tokens');
    const users = await asTenant(database, tenant, `SELECT * FROM users`);
    expect(users.map((user) => user.email)).toEqual(['bob@x.example']);
    expect(Object.keys(users[0]!)).not.toContain('password_hash');

    expect(await subject.migrate({ direction: 'up', toVersion: 2 })).toEqual(['0002_add_identity.sql']);
    expect(await relationsIn(database, tenant.schema_name)).toEqual(expect.arrayContaining(['one_time_tokens', 'refresh_tokens']));
    expect(await asTenant(database, tenant, `SELECT email, password_hash FROM users`)).toEqual([{ email: 'bob@x.example', password_hash: null }]);
  });
});

/** The file as tenants applied it before its constraints were named (see its `-- migrate:supersedes` line). */
const BEFORE_NAMED = path.join(PROJECT_ROOT, 'test/fixtures/templates/tenant-0002-add-identity-before-named-constraints.sql');

/** What a schema's tables are, as PostgreSQL describes them with the schema itself on search_path (so nothing is qualified by its name). */
async function catalogOf(database: Database, schema: string) {
  return database.control.transaction().execute(async (trx) => {
    await sql`SELECT set_config('search_path', ${`"${schema}"`}, true)`.execute(trx);
    const constraints = await sql<{ table: string; name: string }>`
      SELECT cl.relname::text AS table, con.conname::text AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS definition
      FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
      WHERE con.connamespace = ${schema}::regnamespace ORDER BY 1, 2`.execute(trx);
    const columns = await sql<{ table: string; name: string }>`
      SELECT table_name::text AS table, column_name::text AS name, ordinal_position AS position, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = ${schema} ORDER BY 1, 3`.execute(trx);
    // An index's definition names its table's schema whatever the search_path.
    const indexes = await sql`
      SELECT indexname::text AS name, replace(indexdef, quote_ident(${schema}) || '.', '') AS definition
      FROM pg_indexes WHERE schemaname = ${schema} ORDER BY 1`.execute(trx);
    return { constraints: constraints.rows, columns: columns.rows, indexes: indexes.rows };
  });
}

describe('tenant migration 0002 with its constraints named', () => {
  let template: Template;
  let before: string;
  let beforeChecksum: string;
  /** The template as an older server had it: 0002 in its earlier text. */
  let older: Template;
  const subjects: TenantUnderTest[] = [];
  beforeAll(async () => {
    template = await tenantTemplate();
    before = await fs.readFile(BEFORE_NAMED, 'utf8');
    beforeChecksum = createHash('sha256').update(before).digest('hex');
    const shipped = template.migrations.find((m) => m.version === 2)!;
    const [, up, down] = before.split(/^--\s*migrate:(?:up|down)\s*$/m);
    const earlier: TemplateMigration = {
      ...shipped,
      up: (await splitStatements(up!)).map((s) => s.text),
      down: (await splitStatements(down!)).map((s) => s.text),
      checksum: beforeChecksum,
      supersededChecksums: [],
    };
    older = { ...template, migrations: template.migrations.map((m) => (m.version === 2 ? earlier : m)) };
  });
  afterAll(() => Promise.all(subjects.map((subject) => subject.close())));

  it('supersedes exactly the text tenants applied, which the constraint rule would now refuse', async () => {
    expect(template.migrations.find((m) => m.version === 2)!.supersededChecksums).toEqual([beforeChecksum]);
    await expect(loadTemplate(await templatesWith({ '0002_add_identity.sql': before }), 'tenant')).rejects.toMatchObject({
      code: 'INVALID_TEMPLATE',
      message: expect.stringMatching(/0002_add_identity\.sql: .*CHECK on users\.password_hash/),
    });
  });

  it('gives the very same constraints, names included, columns and indexes as the earlier text', async () => {
    const [earlier, named] = [await tenantAtVersion(1, 'mig0002old'), await tenantAtVersion(1, 'mig0002new')];
    subjects.push(earlier, named);
    await earlier.database.control.transaction().execute((trx) => migrateTenantInTransaction(trx, older, earlier.tenant, { direction: 'up', toVersion: 2 }));
    expect(await named.migrate({ direction: 'up', toVersion: 2 })).toEqual(['0002_add_identity.sql']);

    const [a, b] = [await catalogOf(earlier.database, earlier.tenant.schema_name), await catalogOf(named.database, named.tenant.schema_name)];
    expect(b).toEqual(a);
    expect(b.constraints).toEqual(
      expect.arrayContaining(
        [
          'users_password_hash_check',
          'refresh_tokens_pkey',
          'refresh_tokens_user_id_fkey',
          'refresh_tokens_token_hash_key',
          'one_time_tokens_pkey',
          'one_time_tokens_user_id_fkey',
          'one_time_tokens_purpose_check',
          'one_time_tokens_token_hash_key',
        ].map((name) => expect.objectContaining({ name })),
      ),
    );
    expect(b.columns.filter((c) => c.table === 'refresh_tokens')).toHaveLength(8);
  });

  it('a tenant that applied the earlier text migrates on to the head with no drift', async () => {
    const earlier = await tenantAtVersion(1, 'mig0002up');
    subjects.push(earlier);
    await earlier.database.control.transaction().execute((trx) => migrateTenantInTransaction(trx, older, earlier.tenant, { direction: 'up', toVersion: 2 }));
    const ledger = await sql<{ checksum: string }>`
      SELECT checksum FROM ${sql.id(earlier.tenant.schema_name, 'schema_migrations')} WHERE name = '0002_add_identity.sql'`.execute(earlier.database.control);
    expect(ledger.rows).toEqual([{ checksum: beforeChecksum }]);

    expect(await earlier.migrate({ direction: 'up' })).toEqual(template.migrations.filter((m) => m.version > 2).map((m) => m.name));
    expect(await earlier.migrate({ direction: 'down', toVersion: 1 })).toEqual(template.migrations.filter((m) => m.version > 1).map((m) => m.name).reverse());
  });
});
