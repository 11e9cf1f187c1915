import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { findTenantAuth, setIdentityProvider, type IdentityProviderSettings } from '../../src/auth/tenant-auth.repository.js';
import { rotateSigningKey } from '../../src/control/tenants/tenant.service.js';
import type { Tenant } from '../../src/db/control-database.js';
import { seedTenant, tenantTemplate, testConfig } from '../helpers/test-database.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/test-server.js';

const READ = '{ projects(first: 1) { totalCount } }';
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access token verification', () => {
  let server: TestServer;
  let acme: Tenant;
  let globex: Tenant;
  const config = testConfig();

  beforeAll(async () => {
    server = await startTestServer();
    const template = await tenantTemplate();
    [acme, globex] = await Promise.all([seedTenant(server.database, template, 'jwt_a'), seedTenant(server.database, template, 'jwt_g')]);
  });
  afterAll(() => server.close());

  const secretOf = async (tenant: Tenant) => new TextEncoder().encode((await findTenantAuth(server.database.control, tenant.id))!.hmac_secret);
  const claims = (tenant: Tenant, extra: Record<string, unknown> = {}) => ({ tenant: tenant.id, role: 'admin', ...extra });
  const sign = (payload: Record<string, unknown>, key: Uint8Array, alg = 'HS256', exp: number | string = '5m') =>
    new SignJWT(payload).setProtectedHeader({ alg }).setSubject('someone').setIssuer(config.jwtIssuer).setAudience(config.jwtAudience).setIssuedAt().setExpirationTime(exp).sign(key);
  const read = (tenant: Tenant, token: string | null) => server.graphql(tenant.slug, READ, {}, { as: token === null ? null : { token } });
  const expectRefused = (response: GraphQLResponse, status: number, code: string) => {
    expect(response.body.errors?.[0]?.extensions?.code, response.text).toBe(code);
    expect(response.status).toBe(status);
    expect(response.body.data ?? null).toBeNull();
  };

  it('control: a token signed with the tenant key is accepted', async () => {
    const response = await read(acme, await sign(claims(acme), await secretOf(acme)));
    expect(response.body).toEqual({ data: { projects: { totalCount: 0 } } });
  });

  it('no token: 401 UNAUTHENTICATED, and a non-Bearer header too', async () => {
    expectRefused(await read(acme, null), 401, 'UNAUTHENTICATED');
    const basic = await server.graphql(acme.slug, READ, {}, { as: null, headers: { authorization: 'Basic YWxpY2U6cHc=' } });
    expectRefused(basic, 401, 'UNAUTHENTICATED');
  });

  it('alg none: 401 INVALID_TOKEN', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(acme), sub: 'x', iss: config.jwtIssuer, aud: config.jwtAudience, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    expectRefused(await read(acme, unsigned), 401, 'INVALID_TOKEN');
  });

  it('an algorithm other than the pinned HS256, even with the right key: 401 INVALID_TOKEN', async () => {
    expectRefused(await read(acme, await sign(claims(acme), await secretOf(acme), 'HS512')), 401, 'INVALID_TOKEN');
  });

  it('an expired token: 401 TOKEN_EXPIRED', async () => {
    const expired = await sign(claims(acme), await secretOf(acme), 'HS256', Math.floor(Date.now() / 1000) - 60);
    expectRefused(await read(acme, expired), 401, 'TOKEN_EXPIRED');
  });

  it('a token not valid yet (nbf): 401 INVALID_TOKEN', async () => {
    const early = await new SignJWT(claims(acme)).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer(config.jwtIssuer).setAudience(config.jwtAudience).setNotBefore('10m').setExpirationTime('20m').sign(await secretOf(acme));
    expectRefused(await read(acme, early), 401, 'INVALID_TOKEN');
  });

  it('the wrong key, the wrong audience or an unknown issuer: 401 INVALID_TOKEN', async () => {
    expectRefused(await read(acme, await sign(claims(acme), new TextEncoder().encode('x'.repeat(43)))), 401, 'INVALID_TOKEN');
    const wrongAudience = await new SignJWT(claims(acme)).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer(config.jwtIssuer).setAudience('other-api').setExpirationTime('5m').sign(await secretOf(acme));
    expectRefused(await read(acme, wrongAudience), 401, 'INVALID_TOKEN');
    const wrongIssuer = await new SignJWT(claims(acme)).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('evil').setAudience(config.jwtAudience).setExpirationTime('5m').sign(await secretOf(acme));
    expectRefused(await read(acme, wrongIssuer), 401, 'INVALID_TOKEN');
  });

  it("a token issued for acme gets 403 TOKEN_TENANT_MISMATCH at globex, whichever way globex is named", async () => {
    const acmeToken = await server.tokenFor(acme.slug, 'admin');
    // Verified (and so cached) at acme first: the cache must not carry it over to globex.
    expect((await read(acme, acmeToken)).status).toBe(200);
    expectRefused(await read(globex, acmeToken), 403, 'TOKEN_TENANT_MISMATCH');
    const byPath = await server.graphql(null, READ, {}, { as: { token: acmeToken }, url: `http://yoga/t/${globex.slug}/graphql` });
    expectRefused(byPath, 403, 'TOKEN_TENANT_MISMATCH');
    // A forged token that merely claims acme is invalid, not "wrong tenant".
    const forged = await sign(claims(acme), new TextEncoder().encode('y'.repeat(43)));
    expectRefused(await read(globex, forged), 401, 'INVALID_TOKEN');
  });

  it('a tampered role claim: 401 INVALID_TOKEN', async () => {
    const viewer = await server.tokenFor(acme.slug, 'viewer');
    const [header, payload, signature] = viewer.split('.');
    const raised = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' };
    expectRefused(await read(acme, `${header}.${b64(raised)}.${signature}`), 401, 'INVALID_TOKEN');
  });

  it('a role the API does not know: 401 INVALID_TOKEN', async () => {
    expectRefused(await read(acme, await sign(claims(acme, { role: 'superuser' }), await secretOf(acme))), 401, 'INVALID_TOKEN');
  });

  it('key rotation: tokens signed before fail, tokens signed after work', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'jwt_rot');
    const before = await server.tokenFor(tenant.slug, 'viewer');
    expect((await read(tenant, before)).body.errors).toBeUndefined();

    await rotateSigningKey(server.database, tenant.slug);
    const refused = await eventually(() => read(tenant, before), (r) => r.status !== 200);
    expectRefused(refused, 401, 'INVALID_TOKEN');
    const after = await server.tokenFor(tenant.slug, 'viewer');
    expect((await read(tenant, after)).body).toEqual({ data: { projects: { totalCount: 0 } } });
  });

  it('a tenant with its own identity provider: ES256 tokens checked against its public key, issuer and audience', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'jwt_idp');
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    await setIdentityProvider(server.database.control, tenant.id, {
      publicKey: await exportSPKI(publicKey),
      issuer: 'https://idp.example',
      audience: 'acme-app',
      algorithms: ['ES256'],
    });
    const idpToken = (aud = 'acme-app') =>
      new SignJWT({ tenant: tenant.id, role: 'viewer' }).setProtectedHeader({ alg: 'ES256' }).setSubject('idp|42').setIssuer('https://idp.example').setAudience(aud).setExpirationTime('5m').sign(privateKey);

    const accepted = await eventually(async () => read(tenant, await idpToken()), (r) => r.status === 200);
    expect(accepted.body).toEqual({ data: { projects: { totalCount: 0 } } });
    expectRefused(await read(tenant, await idpToken('someone-else')), 401, 'INVALID_TOKEN');
    const other = await generateKeyPair('ES256');
    const wrongKey = await new SignJWT({ tenant: tenant.id, role: 'viewer' }).setProtectedHeader({ alg: 'ES256' }).setSubject('x').setIssuer('https://idp.example').setAudience('acme-app').setExpirationTime('5m').sign(other.privateKey);
    expectRefused(await read(tenant, wrongKey), 401, 'INVALID_TOKEN');
  });

  it('a tenant with a JWKS URL: EdDSA tokens verified against the keys it serves', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'jwt_jwks');
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    const jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
      await setIdentityProvider(server.database.control, tenant.id, { jwksUrl: url, issuer: 'https://login.example', audience: 'globex-app', algorithms: ['EdDSA'] });
      const token = await new SignJWT({ tenant: tenant.id, role: 'member' }).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).setSubject('u-7').setIssuer('https://login.example').setAudience('globex-app').setExpirationTime('5m').sign(privateKey);
      const accepted = await eventually(() => read(tenant, token), (r) => r.status === 200);
      expect(accepted.body).toEqual({ data: { projects: { totalCount: 0 } } });
    } finally {
      jwks.close();
    }
  });

  it('an identity provider without an audience is refused when configured', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'jwt_noaud');
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const settings = { publicKey: await exportSPKI(publicKey), issuer: 'https://idp.example', algorithms: ['ES256'] };
    for (const audience of [undefined, '', '  ']) {
      await expect(setIdentityProvider(server.database.control, tenant.id, { ...settings, audience } as IdentityProviderSettings)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'audience' },
      });
    }
    expect((await findTenantAuth(server.database.control, tenant.id))!.idp_issuer).toBeNull();
  });

  it('an identity provider stored without an audience (before it was required) has its tokens refused, whatever their aud', async () => {
    const tenant = await seedTenant(server.database, await tenantTemplate(), 'jwt_oldidp');
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    // As an older server wrote it: the repository refuses this now.
    await server.database.control
      .updateTable('control.tenant_auth')
      .set({ public_key: await exportSPKI(publicKey), idp_issuer: 'https://idp.example', idp_audience: null, idp_algorithms: ['ES256'] })
      .where('tenant_id', '=', tenant.id)
      .execute();
    const idpToken = (aud?: string) => {
      const jwt = new SignJWT({ tenant: tenant.id, role: 'viewer' }).setProtectedHeader({ alg: 'ES256' }).setSubject('idp|7').setIssuer('https://idp.example').setExpirationTime('5m');
      return (aud === undefined ? jwt : jwt.setAudience(aud)).sign(privateKey);
    };
    for (const token of [await idpToken('some-other-app'), await idpToken()]) {
      const refused = await eventually(() => read(tenant, token), (r) => r.status !== 200);
      expectRefused(refused, 401, 'INVALID_TOKEN');
      expect(refused.body.errors?.[0]?.message).toContain('no audience configured');
    }
  });
});
