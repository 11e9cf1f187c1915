import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import getPort from 'get-port';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issueAccessToken } from '../../src/auth/access-token.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { findTenantAuth } from '../../src/auth/tenant-auth.repository.js';
import { PROJECT_ROOT } from '../../src/config.js';
import type { Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { startServer } from '../../src/server/main.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { eventually } from '../helpers/eventually.js';
import { openTestDatabase, seedTenant, TEMPLATES_DIR, tenantTemplate, testConfig } from '../helpers/test-database.js';

const ASK = 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }';
const RESET = 'mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, password: $p }) }';
const INVITE = 'mutation { inviteUser(input: { email: "new@mail.example", name: "New", role: VIEWER }) { id } }';

interface Received {
  readonly from: string | undefined;
  readonly to: string[];
  readonly raw: string;
}

/** A real SMTP server on 127.0.0.1 that keeps every message it is handed. */
async function startSmtpServer(): Promise<{ port: number; inbox: Received[]; close(): Promise<void> }> {
  const inbox: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        inbox.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined, to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, inbox, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function seedUser(database: Database, tenant: Tenant, email: string): Promise<void> {
  const hash = await hashPassword('an old password here');
  await withTenantTransaction(database, tenant, {}, (db) => db.insertInto('users').values({ email, name: 'Mia', role: 'admin', password_hash: hash }).execute());
}

const post = async (port: number, tenant: Tenant, query: string, variables: Record<string, unknown> = {}, token?: string) => {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
};

describe('mail delivery in production', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('npm run serve with SMTP_URL sends the reset token over SMTP, and no log line holds it', async () => {
    const smtp = await startSmtpServer();
    const tenant = await seedTenant(database, await tenantTemplate(), 'mail');
    await seedUser(database, tenant, 'mia@mail.example');
    const port = await getPort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: inject('databaseUrl'),
        NODE_ENV: 'production',
        PORT: String(port),
        METRICS_PORT: '0',
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Schemata <no-reply@schemata.example>',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          output += `${line}\n`;
          if (line.startsWith('listening on')) resolve();
        });
        child.once('exit', () => reject(new Error(`server exited before it was ready:\n${output}`)));
      });

      expect(await post(port, tenant, ASK, { e: 'mia@mail.example' })).toEqual({ data: { requestPasswordReset: true } });
      // The mail leaves in the background (the answer must not wait on it, or its timing would tell that the account exists).
      expect(await eventually(async () => smtp.inbox.length, (n) => n > 0)).toBe(1);
      const mail = smtp.inbox[0]!;
      expect(mail.from).toBe('no-reply@schemata.example');
      expect(mail.to).toEqual(['mia@mail.example']);
      expect(mail.raw).toContain(`Subject: Reset your ${tenant.name} password`);
      const token = /resetPassword mutation with this token:\r?\n([A-Za-z0-9_-]{20,})/.exec(mail.raw)?.[1];
      expect(token).toBeDefined();
      // The mailed token is the real one: it resets the password.
      expect(await post(port, tenant, RESET, { t: token, p: 'a brand new password' })).toEqual({ data: { resetPassword: true } });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('listening on');
      expect(output).not.toContain(token);
    } finally {
      child.kill('SIGKILL');
      await smtp.close();
    }
  });

  it('a production server without SMTP_URL refuses invitations and resets with MAIL_NOT_CONFIGURED, for every address alike', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'nomail');
    await seedUser(database, tenant, 'mia@nomail.example');
    const server = await startServer({ config: testConfig({ production: true }), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
    try {
      const codes = (response: Awaited<ReturnType<typeof post>>) => response.errors?.map((e) => e.extensions?.code);
      expect(codes(await post(server.port, tenant, ASK, { e: 'mia@nomail.example' }))).toEqual(['MAIL_NOT_CONFIGURED']);
      expect(codes(await post(server.port, tenant, ASK, { e: 'nobody@nomail.example' }))).toEqual(['MAIL_NOT_CONFIGURED']);
      const auth = await findTenantAuth(database.control, tenant.id);
      const admin = await issueAccessToken({ hmac: new TextEncoder().encode(auth!.hmac_secret), idp: undefined }, { subject: 'ops', role: 'admin', tenantId: tenant.id }, testConfig());
      expect(codes(await post(server.port, tenant, INVITE, {}, admin.token))).toEqual(['MAIL_NOT_CONFIGURED']);
      // Nothing was written that a token could be recovered from, and the invitee was not created.
      const rows = await withTenantTransaction(database, tenant, {}, async (db) => ({
        tokens: await db.selectFrom('one_time_tokens').select('id').execute(),
        invited: await db.selectFrom('users').select('id').where('email', '=', 'new@mail.example').execute(),
      }));
      expect(rows).toEqual({ tokens: [], invited: [] });
    } finally {
      await server.shutdown();
    }
  });
});
