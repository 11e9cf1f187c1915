import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationsIn, scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

const SECRET = `repeat('s', 43)`;

/** Control migration 0003 on a registry that already holds tenants: migrate to 0002, seed, migrate, assert. */
describe('control migration 0003 (per-tenant token verification)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  const secrets = async () =>
    (
      await sql<{ slug: string; hmac_secret: string }>`
        SELECT t.slug, a.hmac_secret FROM control.tenants t LEFT JOIN control.tenant_auth a ON a.tenant_id = t.id ORDER BY t.slug`.execute(plane.database.control)
    ).rows;

  it('gives every existing tenant its own signing secret and guards how a tenant brings its own identity provider', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 2 });
    await sql.raw(tenantRow('old_one')).execute(db);
    await sql.raw(tenantRow('old_two')).execute(db);

    expect(await plane.migrate({ direction: 'up', toVersion: 3 })).toEqual(['0003_create_tenant_auth.sql']);
    const backfilled = await secrets();
    expect(backfilled.map((row) => row.slug)).toEqual(['old_one', 'old_two']);
    for (const row of backfilled) expect(row.hmac_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(backfilled[0]!.hmac_secret).not.toBe(backfilled[1]!.hmac_secret);
    await plane.changes.drain();

    const one = `(SELECT id FROM control.tenants WHERE slug = 'old_one')`;
    const idp = (set: string) => `UPDATE control.tenant_auth SET ${set} WHERE tenant_id = ${one}`;
    for (const [label, statement] of [
      ['a short secret', idp(`hmac_secret = 'short'`)],
      ['a JWKS URL and a public key together', idp(`jwks_url = 'https://idp.example/jwks', public_key = '-----BEGIN PUBLIC KEY-----x', idp_issuer = 'i', idp_algorithms = '{RS256}'`)],
      ['a JWKS URL without an issuer', idp(`jwks_url = 'https://idp.example/jwks', idp_algorithms = '{RS256}'`)],
      ['a JWKS URL without algorithms', idp(`jwks_url = 'https://idp.example/jwks', idp_issuer = 'i'`)],
      ['a symmetric algorithm', idp(`jwks_url = 'https://idp.example/jwks', idp_issuer = 'i', idp_algorithms = '{HS256}'`)],
      ['a JWKS URL that is not http', idp(`jwks_url = 'file:///etc/passwd', idp_issuer = 'i', idp_algorithms = '{RS256}'`)],
      ['a public key that is not PEM', idp(`public_key = 'ssh-rsa AAAA', idp_issuer = 'i', idp_algorithms = '{RS256}'`)],
      ['a second row for a tenant', `INSERT INTO control.tenant_auth (tenant_id, hmac_secret) VALUES (${one}, ${SECRET})`],
    ] as const) {
      await expect(sql.raw(statement).execute(db), label).rejects.toMatchObject({ code: expect.stringMatching(/^23(514|505)$/) });
    }
    await sql.raw(idp(`jwks_url = 'https://idp.example/jwks', idp_issuer = 'https://idp.example', idp_algorithms = '{RS256,EdDSA}'`)).execute(db);

    // A change of keys is announced for the tenant, with no slug (routing did not change).
    const id = (await sql<{ id: string }>`SELECT id FROM control.tenants WHERE slug = 'old_one'`.execute(db)).rows[0]!.id;
    expect(await plane.changes.drain()).toEqual([{ id, slugs: [] }]);
    // Its keys go with the tenant.
    await sql`DELETE FROM control.tenants WHERE slug = 'old_one'`.execute(db);
    expect((await secrets()).map((row) => row.slug)).toEqual(['old_two']);
  });

  it('goes down without the table and up again, backfilling once more', async () => {
    expect(await plane.migrate({ direction: 'down', toVersion: 2 })).toEqual(['0003_create_tenant_auth.sql']);
    expect(await relationsIn(plane.database, 'control')).not.toContain('tenant_auth');
    expect(await plane.migrate({ direction: 'up', toVersion: 3 })).toEqual(['0003_create_tenant_auth.sql']);
    expect((await secrets()).map((row) => [row.slug, row.hmac_secret.length])).toEqual([['old_two', 64]]);
  });
});
