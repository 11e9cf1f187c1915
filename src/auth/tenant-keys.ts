import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { ControlPlaneChanges } from '../db/control-changes.js';
import type { Database } from '../db/database.js';
import { findTenantAuth } from './tenant-auth.repository.js';

export interface IdentityProviderKeys {
  readonly key: KeyObject | JWTVerifyGetKey;
  readonly issuer: string;
  /** undefined only for rows stored before an audience was required: authenticate refuses their tokens. */
  readonly audience: string | undefined;
  readonly algorithms: string[];
}

export interface TenantKeys {
  /** HS256 secret of the tenant's built-in identity. */
  readonly hmac: Uint8Array;
  /** Present when the tenant brings its own identity provider. */
  readonly idp: IdentityProviderKeys | undefined;
}

/**
 * Verification keys per tenant, cached like the registry and dropped with it
 * (the tenant_auth trigger notifies on the registry's channel), so a rotated
 * secret stops old tokens at once.
 */
export class TenantKeyStore {
  private readonly cache = new Map<string, Promise<TenantKeys | undefined>>();

  constructor(
    private readonly database: Database,
    private readonly registry: ControlPlaneChanges,
  ) {
    registry.onInvalidate((tenantId) => (tenantId === undefined ? this.cache.clear() : this.cache.delete(tenantId)));
  }

  forTenant(tenantId: string): Promise<TenantKeys | undefined> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    const loading = this.load(tenantId);
    if (this.registry.synced) {
      this.cache.set(tenantId, loading);
      loading.catch(() => this.cache.delete(tenantId));
    }
    return loading;
  }

  private async load(tenantId: string): Promise<TenantKeys | undefined> {
    const row = await findTenantAuth(this.database.control, tenantId);
    if (!row) return undefined;
    let idp: IdentityProviderKeys | undefined;
    if ((row.jwks_url || row.public_key) && row.idp_issuer) {
      idp = {
        key: row.jwks_url ? createRemoteJWKSet(new URL(row.jwks_url)) : createPublicKey(row.public_key!),
        issuer: row.idp_issuer,
        audience: row.idp_audience || undefined,
        algorithms: row.idp_algorithms,
      };
    }
    return { hmac: new TextEncoder().encode(row.hmac_secret), idp };
  }
}
