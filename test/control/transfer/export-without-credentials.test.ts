import { exportSPKI, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailMessage } from '../../../src/auth/mailer.js';
import { setIdentityProvider } from '../../../src/auth/tenant-auth.repository.js';
import { CREDENTIAL_COLUMNS, CREDENTIAL_TABLES } from '../../../src/control/transfer/tenant-export-format.js';
import { importTenant } from '../../../src/control/transfer/tenant-import.service.js';
import type { Database } from '../../../src/db/database.js';
import type { Template } from '../../../src/migrations/template.js';
import { exportText, fillTenant, tenantContents, textStream } from '../../helpers/tenant-contents.js';
import { openTestDatabase, seedTenant, tenantTemplate, uniqueSlug } from '../../helpers/test-database.js';
import { startTestServer } from '../../helpers/test-server.js';

describe('tenant export without credentials', () => {
  let database: Database;
  let template: Template;
  beforeAll(async () => {
    database = await openTestDatabase();
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  it('holds no password hash and no token hash, and imports with every other row unchanged', async () => {
    const source = await seedTenant(database, template, 'nocred');
    await fillTenant(database, source, { users: 6, projects: 2, deployments: 20, workflows: 3 });
    const secrets = await sql<{ value: string }>`
      SELECT password_hash AS value FROM ${sql.id(source.schema_name, 'users')} WHERE password_hash IS NOT NULL
      UNION ALL SELECT token_hash FROM ${sql.id(source.schema_name, 'refresh_tokens')}
      UNION ALL SELECT token_hash FROM ${sql.id(source.schema_name, 'one_time_tokens')}`.execute(database.control);
    expect(secrets.rows.length).toBeGreaterThan(3);

    // Control: the full export carries them.
    const full = await exportText(database, source.slug);
    for (const { value } of secrets.rows) expect(full).toContain(value);

    const text = await exportText(database, source.slug, { withoutCredentials: true });
    for (const { value } of secrets.rows) expect(text).not.toContain(value);
    expect(text).not.toContain('password_hash');
    expect(text).not.toContain('token_hash');
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: 'schemata-tenant-export', withoutCredentials: true });
    expect(lines.at(-1)).toMatchObject({ rowCounts: { refresh_tokens: 0, one_time_tokens: 0 } });

    const imported = await importTenant(database, template, textStream(text), { slug: uniqueSlug('nocred_imp') });
    const before = await tenantContents(database, source.schema_name, { users: ['password_hash'] });
    const after = await tenantContents(database, imported.tenant.schema_name, { users: ['password_hash'] });
    for (const table of Object.keys(before)) {
      if (CREDENTIAL_TABLES.includes(table)) expect(after[table]!.rows, table).toBe(0);
      else expect(after[table], table).toEqual(before[table]);
    }
    const hashes = await sql<{ n: number }>`SELECT count(password_hash)::int AS n FROM ${sql.id(imported.tenant.schema_name, 'users')}`.execute(database.control);
    expect(hashes.rows[0]!.n).toBe(0);
  });

  it('a user of such an import sets a password through a mailed reset and signs in', async () => {
    const source = await seedTenant(database, template, 'nocred_rs');
    await fillTenant(database, source, { users: 3, projects: 1, deployments: 2, workflows: 1 });
    // A user who had a password before the export.
    await sql`UPDATE ${sql.id(source.schema_name, 'users')} SET password_hash = 'scrypt$had$one' WHERE email = 'null.pw@example.org'`.execute(database.control);
    const imported = await importTenant(database, template, textStream(await exportText(database, source.slug, { withoutCredentials: true })), { slug: uniqueSlug('nocred_in') });
    const outbox: MailMessage[] = [];
    const server = await startTestServer({ database, yoga: { mailer: { send: async (message) => void outbox.push(message) } } });
    try {
      const slug = imported.tenant.slug;
      const email = 'null.pw@example.org';
      const ask = await server.graphql(slug, 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }', { e: email }, { as: null });
      expect(ask.body).toEqual({ data: { requestPasswordReset: true } });
      expect(outbox.map((m) => m.to)).toEqual([email]);
      const token = outbox[0]!.text.split('\n').at(-1)!;
      const reset = await server.graphql(slug, 'mutation($t: String!) { resetPassword(input: { token: $t, password: "a fresh long password" }) }', { t: token }, { as: null });
      expect(reset.body).toEqual({ data: { resetPassword: true } });
      const login = await server.graphql(slug, 'mutation($e: EmailAddress!) { login(email: $e, password: "a fresh long password") { user { email } } }', { e: email }, { as: null });
      expect(login.body).toEqual({ data: { login: { user: { email } } } });
    } finally {
      await server.close();
    }
  });

  it('in a tenant with its own identity provider, a user without a password gets no reset: a password would bypass the provider', async () => {
    const tenant = await seedTenant(database, template, 'nocred_idp');
    await fillTenant(database, tenant, { users: 3, projects: 1, deployments: 1, workflows: 1 });
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    await setIdentityProvider(database.control, tenant.id, { publicKey: await exportSPKI(publicKey), issuer: 'https://idp.example', audience: 'app', algorithms: ['ES256'] });
    const outbox: MailMessage[] = [];
    const server = await startTestServer({ database, yoga: { mailer: { send: async (message) => void outbox.push(message) } } });
    const tokens = sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(tenant.schema_name, 'one_time_tokens')}`;
    const before = (await tokens.execute(database.control)).rows[0]!.n;
    try {
      const ask = await server.graphql(tenant.slug, 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }', { e: 'null.pw@example.org' }, { as: null });
      expect(ask.body).toEqual({ data: { requestPasswordReset: true } });
      // Let the background mail (if any) go out before looking.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(outbox).toEqual([]);
      expect((await tokens.execute(database.control)).rows[0]!.n).toBe(before);
    } finally {
      await server.close();
    }
  });

  it('names every credential-looking column of the tenant template', async () => {
    const tenant = await seedTenant(database, template, 'nocred_cols');
    const columns = await sql<{ table: string; column: string }>`
      SELECT table_name AS table, column_name AS column FROM information_schema.columns
      WHERE table_schema = ${tenant.schema_name} AND table_name <> 'schema_migrations'
        AND column_name ~ '(hash|token|secret|password|key)'`.execute(database.control);
    expect(columns.rows.length).toBeGreaterThan(0);
    const uncovered = columns.rows.filter((c) => !CREDENTIAL_TABLES.includes(c.table) && !CREDENTIAL_COLUMNS[c.table]?.includes(c.column));
    expect(uncovered).toEqual([]);
  });
});
