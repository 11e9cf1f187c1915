import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config.js';
import { SchemataError } from '../errors.js';
import { bearerToken } from './bearer-token.js';

/** Platform tokens are for this audience only, so a tenant token can never pass for one, nor the reverse. */
export const PLATFORM_AUDIENCE = 'schemata-admin';
export const PLATFORM_ADMIN_SCOPE = 'platform-admin';

export interface PlatformAdmin {
  /** The operator named in the token's `sub`. */
  readonly subject: string;
}

export type PlatformTokenSettings = Pick<Config, 'jwtIssuer'>;

export async function issuePlatformToken(
  secret: string,
  subject: string,
  settings: PlatformTokenSettings,
  options: { readonly ttlSeconds: number; readonly scope?: string },
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ scope: options.scope ?? PLATFORM_ADMIN_SCOPE })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(settings.jwtIssuer)
    .setAudience(PLATFORM_AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt: new Date((now + options.ttlSeconds) * 1000) };
}

/**
 * The operator behind an `Authorization: Bearer` header. Fails closed: no
 * header is UNAUTHENTICATED, anything not signed HS256 by the platform secret
 * for the admin audience is INVALID_TOKEN (or TOKEN_EXPIRED), and a genuine
 * platform token without the platform-admin scope is PLATFORM_ADMIN_REQUIRED.
 */
export async function verifyPlatformToken(authorization: string | null, secret: string, settings: PlatformTokenSettings): Promise<PlatformAdmin> {
  if (authorization === null || authorization.trim() === '') {
    throw new SchemataError('UNAUTHENTICATED', 'the admin API needs "Authorization: Bearer <platform-admin token>" (npm run token -- --platform-admin)');
  }
  const token = bearerToken(authorization, 'platform-admin token');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      issuer: settings.jwtIssuer,
      audience: PLATFORM_AUDIENCE,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 5,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new SchemataError('TOKEN_EXPIRED', 'the platform-admin token has expired: issue a new one');
    throw new SchemataError('INVALID_TOKEN', 'invalid token: not a platform-admin token signed by this platform');
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scopes.includes(PLATFORM_ADMIN_SCOPE)) {
    throw new SchemataError('PLATFORM_ADMIN_REQUIRED', `this token lacks the "${PLATFORM_ADMIN_SCOPE}" scope`);
  }
  return { subject: payload.sub! };
}
