import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { asTenant, relationsIn, tenantAtVersion, type TenantUnderTest } from '../helpers/migration-steps.js';

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
