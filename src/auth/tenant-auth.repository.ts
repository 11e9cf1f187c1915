import type { Kysely } from 'kysely';
import type { ControlDatabase, TenantAuth } from '../db/control-database.js';
import { inputError } from '../errors.js';

type Db = Kysely<ControlDatabase>;

export async function insertTenantAuth(db: Db, tenantId: string, hmacSecret: string): Promise<void> {
  await db.insertInto('control.tenant_auth').values({ tenant_id: tenantId, hmac_secret: hmacSecret }).execute();
}

export async function findTenantAuth(db: Db, tenantId: string): Promise<TenantAuth | undefined> {
  return db.selectFrom('control.tenant_auth').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

export async function setHmacSecret(db: Db, tenantId: string, hmacSecret: string): Promise<boolean> {
  const result = await db
    .updateTable('control.tenant_auth')
    .set({ hmac_secret: hmacSecret, rotated_at: new Date() })
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface IdentityProviderSettings {
  readonly jwksUrl?: string | null;
  readonly publicKey?: string | null;
  readonly issuer: string;
  /** Required: without one, a token the provider issued for any other application would be accepted here. */
  readonly audience: string;
  readonly algorithms: readonly string[];
}

/** Sets (or, with null, removes) the tenant's own identity provider; one without an audience is refused with BAD_USER_INPUT. */
export async function setIdentityProvider(db: Db, tenantId: string, idp: IdentityProviderSettings | null): Promise<void> {
  if (idp && (typeof idp.audience !== 'string' || idp.audience.trim() === '')) {
    throw inputError('audience', 'an identity provider needs the audience (aud) its tokens carry for this API');
  }
  await db
    .updateTable('control.tenant_auth')
    .set({
      jwks_url: idp?.jwksUrl ?? null,
      public_key: idp?.publicKey ?? null,
      idp_issuer: idp?.issuer ?? null,
      idp_audience: idp?.audience ?? null,
      idp_algorithms: [...(idp?.algorithms ?? [])],
    })
    .where('tenant_id', '=', tenantId)
    .execute();
}
