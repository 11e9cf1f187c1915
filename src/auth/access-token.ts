import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config.js';
import type { UserRole } from '../db/tenant-database.js';
import type { TenantKeys } from './tenant-keys.js';

/** Who a request acts as, taken from a verified token. */
export interface AuthUser {
  /** The token's `sub`: a user id for built-in identity, the IdP's subject otherwise. */
  readonly subject: string;
  /** Set when `subject` is a user of this tenant's users table (a uuid). */
  readonly userId: string | null;
  readonly role: UserRole;
  readonly tenantId: string;
}

export type TokenSettings = Pick<Config, 'jwtIssuer' | 'jwtAudience' | 'accessTokenTtlSeconds'>;

/** An HS256 access token of the tenant's built-in identity. */
export async function issueAccessToken(
  keys: TenantKeys,
  claims: { readonly subject: string; readonly role: UserRole; readonly tenantId: string },
  settings: TokenSettings,
  ttlSeconds = settings.accessTokenTtlSeconds,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = new Date((now + ttlSeconds) * 1000);
  const token = await new SignJWT({ tenant: claims.tenantId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(settings.jwtIssuer)
    .setAudience(settings.jwtAudience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttlSeconds)
    .setJti(randomUUID())
    .sign(keys.hmac);
  return { token, expiresAt };
}
