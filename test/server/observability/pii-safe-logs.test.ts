import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailMessage } from '../../../src/auth/mailer.js';
import type { Tenant } from '../../../src/db/control-database.js';
import { createLogger, scrubLogLine } from '../../../src/server/observability/logger.js';
import { seedTenant, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

const PASSWORD = 'correct horse battery staple 9';
const NEW_PASSWORD = 'another horse, another staple 10';

describe('logs carry no email address, token or password', () => {
  let server: TestServer;
  let tenant: Tenant;
  const lines: string[] = [];
  const outbox: MailMessage[] = [];
  /** Every secret the requests below handle: none may appear in any log line. */
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD]);
  beforeAll(async () => {
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    server = await startTestServer({
      yoga: {
        logger,
        mailer: { send: async (message) => void outbox.push(message) },
        // Unexpected errors go to the same log, as in production.
        logError: (error) => logger.error({ err: error }, 'unexpected error'),
      },
    });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'pii');
  });
  afterAll(() => server.close());

  const tokenOf = (message: MailMessage) => /token[=:]\s*([\w-]{43})/i.exec(message.text)?.[1] ?? /([\w-]{43})/.exec(message.text)![1]!;

  it('through invitation, acceptance, login, refresh, reuse, reset and refused requests', async () => {
    const email = `new.person+pii@${tenant.slug.replaceAll("_", "-")}.example`;
    secrets.add(email);
    const invited = await server.graphql(tenant.slug, 'mutation($e: EmailAddress!) { inviteUser(input: { email: $e, name: "New Person", role: MEMBER }) { id } }', { e: email }, { as: 'admin' });
    expect(invited.body.errors, JSON.stringify(invited.body.errors)).toBeUndefined();
    const inviteToken = tokenOf(outbox.at(-1)!);
    secrets.add(inviteToken);

    const accepted = await server.graphql<{ acceptInvite: { accessToken: string; refreshToken: string } }>(
      tenant.slug,
      'mutation($t: String!, $p: String!) { acceptInvite(input: { token: $t, password: $p }) { accessToken refreshToken } }',
      { t: inviteToken, p: PASSWORD },
      { as: null },
    );
    const first = accepted.body.data!.acceptInvite;
    secrets.add(first.accessToken).add(first.refreshToken);

    // A wrong password, then the right one.
    await server.graphql(tenant.slug, 'mutation($e: EmailAddress!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: email, p: 'wrong password 123' }, { as: null });
    secrets.add('wrong password 123');
    const login = await server.graphql<{ login: { accessToken: string; refreshToken: string } }>(
      tenant.slug,
      'mutation($e: EmailAddress!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
      { e: email, p: PASSWORD },
      { as: null },
    );
    secrets.add(login.body.data!.login.accessToken).add(login.body.data!.login.refreshToken);

    // Refresh, then the used refresh token again (reuse: the family is revoked).
    const refreshed = await server.graphql<{ refresh: { refreshToken: string; accessToken: string } }>(tenant.slug, 'mutation($r: String!) { refresh(refreshToken: $r) { accessToken refreshToken } }', { r: login.body.data!.login.refreshToken }, { as: null });
    secrets.add(refreshed.body.data!.refresh.refreshToken).add(refreshed.body.data!.refresh.accessToken);
    const reused = await server.graphql(tenant.slug, 'mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }', { r: login.body.data!.login.refreshToken }, { as: null });
    expect(reused.body.errors?.[0]?.extensions?.code).toBe('REFRESH_TOKEN_REUSED');

    // A password reset, mailed and used.
    await server.graphql(tenant.slug, 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }', { e: email }, { as: null });
    // The mail leaves in the background.
    const deadline = Date.now() + 5_000;
    while (outbox.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(outbox).toHaveLength(2);
    const resetToken = tokenOf(outbox.at(-1)!);
    secrets.add(resetToken);
    await server.graphql(tenant.slug, 'mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, password: $p }) }', { t: resetToken, p: NEW_PASSWORD }, { as: null });

    // Refused: a forged token in the header, and an email in a query that fails validation.
    await server.graphql(tenant.slug, '{ tenant { slug } }', {}, { as: { token: `${first.accessToken}x` } });
    await server.graphql(tenant.slug, `{ users(filter: { search: "${email}" }) { nope } }`, {}, { as: 'admin' });

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(8);
    expect(log).toContain('"msg":"request"');
    expect([...secrets].filter((secret) => log.includes(secret))).toEqual([]);
  });

  it('the scrubber has teeth: an error quoting a row loses its address, and a token its value', () => {
    const line = JSON.stringify({ err: { message: 'duplicate key value violates unique constraint', detail: 'Key (email)=(ada@acme.example) already exists.' }, auth: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', refresh: 'Z'.repeat(43) });
    const scrubbed = scrubLogLine(line);
    expect(scrubbed).not.toContain('ada@acme.example');
    expect(scrubbed).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(scrubbed).not.toContain('Z'.repeat(43));
    expect(JSON.parse(scrubbed)).toMatchObject({ err: { detail: 'Key (email)=([email]) already exists.' }, refresh: '[secret]' });
    // Ordinary ids survive: a tenant schema name, a UUID.
    expect(scrubLogLine('tenant_0123456789abcdef0123456789abcdef 6f1c2c1e-0000-4000-8000-000000000000')).toBe('tenant_0123456789abcdef0123456789abcdef 6f1c2c1e-0000-4000-8000-000000000000');
  });
});
