import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { withTenantTransaction, type TenantDb } from '../../src/tenancy/tenant-transaction.js';
import { openDatabase } from '../../src/db/database.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';

interface Scope {
  role: string;
  path: string;
  read_only: string;
  timeout: string;
  echo: string | null;
}
// The request's first statement, which travels with BEGIN and the scope in one message.
const scopeSeen = (echo: unknown) =>
  sql<Scope>`SELECT current_user AS role, current_setting('search_path') AS path, current_setting('transaction_read_only') AS read_only,
    current_setting('statement_timeout') AS timeout, ${echo}::text AS echo`;

describe('the request transaction', () => {
  let database: Database;
  let tenant: Tenant;
  let owner: string;
  /** Messages sent on pooled clients. */
  const sent: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    tenant = await seedTenant(database, await tenantTemplate(), 'opening');
    owner = (await database.pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
    const wrapped = new WeakSet<object>();
    database.pool.on('acquire', (client) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
        sent.push(typeof text === 'string' ? text : '(config)');
        return query(text, ...rest);
      };
    });
  });
  afterAll(() => database.close());

  it.each([
    ['with its values inlined', "o'k; RESET ROLE; --"],
    ['with no values', null],
    ['with a value that has no literal (bytes: in a transaction of its own, the scope first)', Buffer.from('x')],
  ])('a read runs each statement %s READ ONLY in the tenant scope, in one round trip and with no COMMIT', async (_label, value) => {
    const before = sent.length;
    const seen = await withTenantTransaction(database, tenant, { readOnly: true }, async (db) => (await scopeSeen(value).execute(db)).rows[0]!);
    expect(seen).toMatchObject({ role: tenant.schema_name, path: `"${tenant.schema_name}"`, read_only: 'on', timeout: '5s' });
    if (typeof value === 'string') expect(seen.echo).toBe(value);
    const messages = sent.slice(before);
    if (Buffer.isBuffer(value)) {
      expect(messages).toEqual([expect.stringMatching(/^BEGIN; SET LOCAL transaction_read_only = on; SELECT set_config\('search_path'/), expect.any(String), 'COMMIT']);
    } else {
      expect(messages).toEqual([expect.stringMatching(/^SET LOCAL transaction_read_only = on; SELECT set_config\('search_path'.*; SELECT current_user/s)]);
    }
  });

  it('every statement of a read carries the scope, those sent while another is in flight too, and a failed one fails alone', async () => {
    const before = sent.length;
    const [a, b, failed, c] = await withTenantTransaction(database, tenant, { readOnly: true }, (db) =>
      Promise.allSettled([scopeSeen('a').execute(db), scopeSeen('b').execute(db), sql`SELECT 1/0`.execute(db), scopeSeen('c').execute(db)]),
    );
    const roles = [a, b, c].map((r) => (r.status === 'fulfilled' ? r.value.rows[0]!.role : 'failed'));
    expect(roles).toEqual([tenant.schema_name, tenant.schema_name, tenant.schema_name]);
    expect(failed).toMatchObject({ status: 'rejected', reason: { code: '22012' } });
    const messages = sent.slice(before);
    expect(messages).toHaveLength(4);
    for (const message of messages) expect(message).toMatch(/^SET LOCAL transaction_read_only = on; SELECT set_config\('search_path', '"tenant_[0-9a-f]{32}"', true\), set_config\('role', 'tenant_[0-9a-f]{32}', true\)/);
  });

  it('each statement of a read ends with its message: its one connection goes back outside any transaction, as the owner', async () => {
    const single = await openDatabase(testConfig({ poolSize: 1 }));
    try {
      const inside = await withTenantTransaction(single, tenant, { readOnly: true }, async (db) => {
        await sql`SELECT 1/0`.execute(db).catch(() => undefined);
        return (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
      });
      const after = (await single.pool.query<{ pid: number; role: string; path: string; status: string }>(
        `SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('search_path') AS path`,
      )).rows[0]!;
      expect(after.pid).toBe(inside);
      expect(after.role).toBe(owner);
      expect(after.path).not.toContain('tenant_');
    } finally {
      await single.close();
    }
  });

  it('a read may not write, in its first statement or a later one', async () => {
    await expect(withTenantTransaction(database, tenant, { readOnly: true }, (db) => db.insertInto('projects').values({ name: 'sneaky' }).execute())).rejects.toMatchObject({ code: '25006' });
    await expect(
      withTenantTransaction(database, tenant, { readOnly: true }, async (db) => {
        await db.selectFrom('projects').select('id').limit(1).execute();
        return db.insertInto('projects').values({ name: 'sneaky' }).execute();
      }),
    ).rejects.toMatchObject({ code: '25006' });
    const rows = await withTenantTransaction(database, tenant, { readOnly: true }, (db) => db.selectFrom('projects').select('name').where('name', '=', 'sneaky').execute());
    expect(rows).toEqual([]);
  });

  it("the statement timeout set in the same message cancels that message's own statement", async () => {
    const slow = withTenantTransaction(database, tenant, { readOnly: true, statementTimeoutMs: 100 }, (db) => sql`SELECT pg_sleep(${2})`.execute(db));
    await expect(slow).rejects.toMatchObject({ code: '57014' });
    // The aborted transaction was rolled back: the next checkout is the owner's, outside any tenant.
    const after = (await database.pool.query<{ role: string; path: string }>(`SELECT current_user AS role, current_setting('search_path') AS path`)).rows[0]!;
    expect(after.role).toBe(owner);
    expect(after.path).not.toContain('tenant_');
  });

  it("a write's first statement carries its values, hostile text included, and commits", async () => {
    const name = `it's "x" \\ $1 -- ${Date.now()}`;
    await withTenantTransaction(database, tenant, {}, (db) => db.insertInto('projects').values({ name }).execute());
    const stored = await withTenantTransaction(database, tenant, { readOnly: true }, (db) => db.selectFrom('projects').select('name').where('name', '=', name).execute());
    expect(stored).toEqual([{ name }]);
  });

  it.each([
    ['a NUL byte in a value (the message is refused whole)', sql`SELECT ${'a\u0000b'}::text`],
    ['a syntax error (the message is parsed whole first)', sql`SELECT FROM WHERE ${1}`],
  ])('when the first message never ran BEGIN, no later statement runs at all: %s', async (_label, first) => {
    const probes: unknown[] = [];
    const outcome = withTenantTransaction(database, tenant, {}, async (db) => {
      const [failed, alongside] = await Promise.allSettled([first.execute(db), scopeSeen('alongside').execute(db)]);
      // What a sibling resolver does after the failure: carry on.
      const after = await scopeSeen('after').execute(db).then((r) => r.rows[0], (error: unknown) => error);
      probes.push(alongside.status === 'fulfilled' ? alongside.value.rows[0] : 'refused', after instanceof Error ? 'refused' : after);
      return failed.status;
    });
    // A write must not pass for committed when no transaction began.
    await expect(outcome).rejects.toThrow(/could not begin/);
    expect(probes).toEqual(['refused', 'refused']);
  });

  it('a handle kept past its transaction is refused, and sends nothing on the pooled client', async () => {
    let kept: TenantDb | undefined;
    await withTenantTransaction(database, tenant, { readOnly: true }, async (db) => {
      kept = db;
      await scopeSeen('inside').execute(db);
    });
    const before = sent.length;
    await expect(scopeSeen('late').execute(kept!)).rejects.toThrow(/after its transaction ended/);
    await expect(kept!.selectFrom('projects').selectAll().execute()).rejects.toThrow(/after its transaction ended/);
    expect(sent.slice(before)).toEqual([]);
  });

  it.each([
    ['a read', true],
    ['a write', false],
  ])('%s: a statement compiled as the work ends, and sent after, is refused instead of reaching the next transaction on the client', async (_label, readOnly) => {
    const before = sent.length;
    let late: Promise<unknown> | undefined;
    await withTenantTransaction(database, tenant, { readOnly }, async (db) => {
      await scopeSeen('inside').execute(db);
      // Not awaited: compiled now, on the wire only after this callback has returned.
      late = scopeSeen('late').execute(db);
      late.catch(() => undefined);
    });
    await expect(late).rejects.toThrow(/after its transaction ended/);
    expect(sent.slice(before).filter((message) => message.includes("'late'"))).toEqual([]);
  });

  it('a request that runs no statement opens no transaction and sends nothing', async () => {
    const before = sent.length;
    expect(await withTenantTransaction(database, tenant, { readOnly: true }, async () => 'answered from memory')).toBe('answered from memory');
    expect(sent.slice(before)).toEqual([]);
  });
});
