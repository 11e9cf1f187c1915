import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, SCRYPT_PARAMS, verifyPassword } from '../../src/auth/password-hash.js';
import type { MailMessage } from '../../src/auth/mailer.js';
import type { Tenant } from '../../src/db/control-database.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { eventually } from '../helpers/eventually.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LOGIN = 'mutation($email: EmailAddress!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken user { email role } } }';
const REFRESH = 'mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }';
type Session = { accessToken: string; refreshToken: string; user: { email: string; role: string } };

describe('built-in identity', () => {
  let server: TestServer;
  let tenant: Tenant;
  const outbox: MailMessage[] = [];
  const PASSWORD = 'correct horse battery';

  beforeAll(async () => {
    // A mail transport that keeps what it sends, so the test can read the tokens.
    server = await startTestServer({ yoga: { mailer: { send: async (message) => void outbox.push(message) } } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'ident');
    const hash = await hashPassword(PASSWORD);
    await withTenantTransaction(server.database, tenant, {}, (db) =>
      db
        .insertInto('users')
        .values([
          { email: 'ada@ident.example', name: 'Ada', role: 'member', password_hash: hash },
          { email: 'bob@ident.example', name: 'Bob', role: 'viewer', password_hash: hash },
          { email: 'cy@ident.example', name: 'Cy', role: 'viewer', password_hash: hash },
          { email: 'dee@ident.example', name: 'Dee', role: 'viewer', password_hash: hash },
        ])
        .execute(),
    );
  });
  afterAll(() => server.close());

  const anonymous = <T = Record<string, any>>(query: string, variables: Record<string, unknown>) => server.graphql<T>(tenant.slug, query, variables, { as: null });
  const login = (email: string, password = PASSWORD) => anonymous<{ login: Session }>(LOGIN, { email, password });
  const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) => response.body.errors?.[0]?.extensions?.code;

  it('passwords are stored as scrypt with the stated parameters', async () => {
    const hash = await hashPassword('another password');
    expect(hash).toMatch(new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{86}$`));
    expect(await verifyPassword('another password', hash)).toBe(true);
    expect(await verifyPassword('another passworD', hash)).toBe(false);
  });

  it('login returns a 15-minute access token that works, and a refresh token', async () => {
    const response = await login('ADA@ident.example');
    expect(response.body.errors).toBeUndefined();
    const session = response.body.data!.login;
    expect(session.user).toEqual({ email: 'ada@ident.example', role: 'MEMBER' });
    const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(15 * 60);
    expect(claims).toMatchObject({ tenant: tenant.id, role: 'member', iss: 'schemata', aud: 'schemata-api' });
    const me = await server.graphql(tenant.slug, '{ me { email role } }', {}, { as: { token: session.accessToken } });
    expect(me.body.data).toEqual({ me: { email: 'ada@ident.example', role: 'MEMBER' } });
  });

  it('a wrong password and an unknown email get the same INVALID_CREDENTIALS', async () => {
    const wrong = await login('ada@ident.example', 'not the password');
    const unknown = await login('nobody@ident.example');
    expect(codeOf(wrong)).toBe('INVALID_CREDENTIALS');
    expect(codeOf(unknown)).toBe('INVALID_CREDENTIALS');
    expect(wrong.body.errors?.[0]?.message).toBe(unknown.body.errors?.[0]?.message);
  });

  it('after 5 failed logins for one email, even the right password gets TOO_MANY_ATTEMPTS; other emails are unaffected', async () => {
    for (let i = 0; i < 5; i++) expect(codeOf(await login('bob@ident.example', `guess ${i} wrong`))).toBe('INVALID_CREDENTIALS');
    const blocked = await login('bob@ident.example');
    expect(codeOf(blocked)).toBe('TOO_MANY_ATTEMPTS');
    expect(blocked.body.errors?.[0]?.message).toMatch(/too many failed sign-ins for this email: try again in \d+ s/);
    expect(codeOf(await login('cy@ident.example'))).toBeUndefined();
  });

  it('refresh rotates the refresh token; reusing an old one revokes the whole family', async () => {
    const first = (await login('dee@ident.example')).body.data!.login;
    const second = await anonymous<{ refresh: Session }>(REFRESH, { t: first.refreshToken });
    expect(second.body.errors).toBeUndefined();
    const rotated = second.body.data!.refresh;
    expect(rotated.refreshToken).not.toBe(first.refreshToken);

    const reuse = await anonymous(REFRESH, { t: first.refreshToken });
    expect(codeOf(reuse)).toBe('REFRESH_TOKEN_REUSED');
    // The revocation committed although the request failed: the newest token is dead too.
    expect(codeOf(await anonymous(REFRESH, { t: rotated.refreshToken }))).toBe('INVALID_REFRESH_TOKEN');
    const audit = await server.graphql<{ auditLog: { edges: { node: { action: string } }[] } }>(
      tenant.slug,
      '{ auditLog(first: 1, filter: { action: "refresh_token.reused" }) { edges { node { action } } } }',
    );
    expect(audit.body.data!.auditLog.edges).toHaveLength(1);
  });

  it('logout revokes the refresh token; an unknown refresh token is INVALID_REFRESH_TOKEN', async () => {
    const session = (await login('cy@ident.example')).body.data!.login;
    expect((await anonymous('mutation($t: String!) { logout(refreshToken: $t) }', { t: session.refreshToken })).body.data).toEqual({ logout: true });
    expect(codeOf(await anonymous(REFRESH, { t: session.refreshToken }))).toBe('INVALID_REFRESH_TOKEN');
    expect(codeOf(await anonymous(REFRESH, { t: 'made-up' }))).toBe('INVALID_REFRESH_TOKEN');
  });

  it('an admin invites a user, who accepts with a password once; a member may not invite', async () => {
    const invite = 'mutation { inviteUser(input: { email: "eve@ident.example", name: "Eve", role: MEMBER }) { email role } }';
    expect(codeOf(await server.graphql(tenant.slug, invite, {}, { as: 'member' }))).toBe('FORBIDDEN');
    const invited = await server.graphql(tenant.slug, invite, {}, { as: 'admin' });
    expect(invited.body.data).toEqual({ inviteUser: { email: 'eve@ident.example', role: 'MEMBER' } });

    const mail = outbox.findLast((m) => m.to === 'eve@ident.example')!;
    const token = mail.text.split('\n').at(-1)!;
    const accept = 'mutation($t: String!, $p: String!) { acceptInvite(input: { token: $t, password: $p }) { user { email } accessToken } }';
    expect(codeOf(await anonymous(accept, { t: token, p: 'short' }))).toBe('WEAK_PASSWORD');
    const accepted = await anonymous(accept, { t: token, p: 'eve has a long password' });
    expect(accepted.body.data?.acceptInvite.user).toEqual({ email: 'eve@ident.example' });
    expect(codeOf(await anonymous(accept, { t: token, p: 'eve has a long password' }))).toBe('INVALID_ONE_TIME_TOKEN');
    expect(codeOf(await login('eve@ident.example', 'eve has a long password'))).toBeUndefined();
    expect(codeOf(await server.graphql(tenant.slug, invite, {}, { as: 'admin' }))).toBe('CONFLICT');
  });

  it('password reset: a mailed single-use token sets a new password and signs the user out everywhere', async () => {
    await withTenantTransaction(server.database, tenant, {}, async (db) =>
      db.insertInto('users').values({ email: 'fay@ident.example', name: 'Fay', role: 'viewer', password_hash: await hashPassword(PASSWORD) }).execute(),
    );
    const session = (await login('fay@ident.example')).body.data!.login;
    const sent = outbox.length;
    const ask = 'mutation($e: EmailAddress!) { requestPasswordReset(email: $e) }';
    expect((await anonymous(ask, { e: 'nobody@ident.example' })).body.data).toEqual({ requestPasswordReset: true });
    expect(outbox.length).toBe(sent);
    expect((await anonymous(ask, { e: 'fay@ident.example' })).body.data).toEqual({ requestPasswordReset: true });
    // The mail leaves in the background (see requestPasswordReset).
    await eventually(async () => outbox.length, (length) => length > sent);
    const token = outbox.at(-1)!.text.split('\n').at(-1)!;

    const reset = 'mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, password: $p }) }';
    expect((await anonymous(reset, { t: token, p: 'a brand new password' })).body.data).toEqual({ resetPassword: true });
    expect(codeOf(await anonymous(reset, { t: token, p: 'yet another password' }))).toBe('INVALID_ONE_TIME_TOKEN');
    expect(codeOf(await anonymous(REFRESH, { t: session.refreshToken }))).toBe('INVALID_REFRESH_TOKEN');
    expect(codeOf(await login('fay@ident.example'))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await login('fay@ident.example', 'a brand new password'))).toBeUndefined();
  });
});
