import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailMessage } from '../../src/auth/mailer.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { eventually } from '../helpers/eventually.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ASK = 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }';

/** Timing is not tested (machines vary); the work that makes it is: the same statements, and the mail off the request path. */
describe('a password-reset request does the same work whether or not the account exists', () => {
  let server: TestServer;
  let tenant: Tenant;
  let statements: string[] = [];
  const outbox: MailMessage[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      databaseOptions: { onQuery: (sql) => void (!sql.includes('"control"') && statements.push(sql)) },
      yoga: { mailer: { send: async (message) => void outbox.push(message) } },
    });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'reset_enum');
    const hash = await hashPassword('gus has a long password');
    await withTenantTransaction(server.database, tenant, {}, (db) =>
      db.insertInto('users').values({ email: 'gus@reset.example', name: 'Gus', role: 'viewer', password_hash: hash }).execute(),
    );
    // Warm the caches, whose first reads would differ between the two calls.
    await server.graphql(tenant.slug, ASK, { e: 'warm@reset.example' }, { as: null });
  });
  afterAll(() => server.close());

  const ask = async (email: string) => {
    statements = [];
    const response = await server.graphql(tenant.slug, ASK, { e: email }, { as: null });
    expect(response.body).toEqual({ data: { requestPasswordReset: true } });
    return statements;
  };

  it('runs the same SQL statements, the token insert among them, for a known and an unknown email', async () => {
    const known = await ask('gus@reset.example');
    const unknown = await ask('nobody@reset.example');
    expect(known.length).toBeGreaterThan(0);
    expect(unknown).toEqual(known);
    expect(known.join('\n')).toMatch(/insert into "one_time_tokens"/);
  });

  it('mails the token only to an existing account', async () => {
    const sent = outbox.length;
    await ask('nobody@reset.example');
    await ask('gus@reset.example');
    const after = await eventually(async () => outbox.length, (length) => length > sent);
    expect(after).toBe(sent + 1);
    expect(outbox.at(-1)!.to).toBe('gus@reset.example');
    expect(outbox.at(-1)!.text).toMatch(/\n[A-Za-z0-9_-]{43}$/);
  });

  it('mails one address at most 3 times an hour however often a stranger asks, and still answers true', async () => {
    const hash = await hashPassword('ida has a long password');
    await withTenantTransaction(server.database, tenant, {}, (db) =>
      db.insertInto('users').values({ email: 'ida@reset.example', name: 'Ida', role: 'viewer', password_hash: hash }).execute(),
    );
    const sent = () => outbox.filter((message) => message.to === 'ida@reset.example').length;
    for (let i = 0; i < 8; i++) await ask('ida@reset.example');
    // Let any background mail go out before counting.
    await eventually(async () => sent(), (n) => n >= 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sent()).toBe(3);
  });
});
