import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ControlPlaneChanges } from '../db/control-changes.js';
import type { Tenant } from '../db/control-database.js';
import { isUuid } from '../db/identifiers.js';
import { USER_ROLES, type UserRole } from '../db/tenant-database.js';
import { SchemataError } from '../errors.js';
import type { AuthUser, TokenSettings } from './access-token.js';
import { bearerToken } from './bearer-token.js';
import type { TenantKeys, TenantKeyStore } from './tenant-keys.js';
import type { VerifiedTokenCache } from './verified-token-cache.js';

export interface AuthenticateDeps {
  readonly keys: TenantKeyStore;
  /** Skips re-verifying a token seen before; optional so one-off callers need none. */
  readonly verified?: VerifiedTokenCache;
  /** The tenant registry: who a token's tenant claim names, and whether a verified token may be cached. */
  readonly registry: ControlPlaneChanges & { findById(id: string, client?: string): Promise<Tenant | undefined> };
  readonly settings: Pick<TokenSettings, 'jwtIssuer' | 'jwtAudience'>;
  /** Who spends the registry's budget for unknown tenants when a token claims one (the request's address). */
  readonly client?: string;
}

/** Leeway for clocks that disagree by a few seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;

const invalid = (reason: string) => new SchemataError('INVALID_TOKEN', `invalid access token: ${reason}`);

/**
 * The user behind a request's `Authorization: Bearer` header, or null when
 * there is none. The token must be signed with a pinned algorithm by a key
 * of the tenant it names (built-in HS256, or the tenant's own identity
 * provider), be current (exp, nbf), come from the expected issuer for the
 * expected audience, and name the tenant the request resolved to.
 */
export async function authenticate(authorization: string | null, tenant: Tenant, deps: AuthenticateDeps): Promise<AuthUser | null> {
  if (authorization === null || authorization.trim() === '') return null;
  const token = bearerToken(authorization, 'access token');
  const known = deps.verified?.get(token);
  if (known && known.tenantId === tenant.id) return known;
  // A key rotation that lands while this token is being verified must not let the old verdict be remembered.
  const generation = deps.registry.generation;

  let claims: JWTPayload;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') throw invalid('unsigned tokens are not accepted');
    claims = decodeJwt(token);
  } catch (error) {
    if (error instanceof SchemataError) throw error;
    throw invalid('not a JWT');
  }
  const claimedTenant = claims.tenant;
  if (typeof claimedTenant !== 'string' || !isUuid(claimedTenant)) throw invalid('no tenant claim');

  if (claimedTenant !== tenant.id) {
    // Only a token genuinely signed for its own tenant learns it is at the
    // wrong one; anything else is simply invalid.
    const home = await deps.registry.findById(claimedTenant, deps.client);
    const homeKeys = home ? await deps.keys.forTenant(home.id) : undefined;
    if (homeKeys && (await verifies(token, claims, homeKeys, deps))) {
      throw new SchemataError('TOKEN_TENANT_MISMATCH', 'this access token was issued for another tenant');
    }
    throw invalid('signature verification failed');
  }

  const keys = await deps.keys.forTenant(tenant.id);
  if (!keys) throw invalid('this tenant has no signing keys');
  let payload: JWTPayload;
  try {
    payload = await verify(token, claims, keys, deps);
  } catch (error) {
    throw translate(error);
  }

  const role = payload.role;
  if (typeof role !== 'string' || !USER_ROLES.includes(role as UserRole)) throw invalid('the role claim must be viewer, member or admin');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('no subject');
  const user: AuthUser = { subject: payload.sub, userId: isUuid(payload.sub) ? payload.sub : null, role: role as UserRole, tenantId: tenant.id };
  // exp is required by verify(), so it is present here. Remembered only while
  // the registry's channel is proven, since a key rotation reaches this cache through it.
  if (deps.registry.synced && deps.registry.generation === generation) deps.verified?.set(token, user, payload.exp! * 1000);
  return user;
}

async function verify(token: string, claims: JWTPayload, keys: TenantKeys, deps: AuthenticateDeps): Promise<JWTPayload> {
  if (claims.iss === deps.settings.jwtIssuer) {
    const { payload } = await jwtVerify(token, keys.hmac, {
      algorithms: ['HS256'],
      issuer: deps.settings.jwtIssuer,
      audience: deps.settings.jwtAudience,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    return payload;
  }
  if (keys.idp && claims.iss === keys.idp.issuer) {
    // Fail closed for a row stored without one (before it was required): jose would skip the check.
    if (keys.idp.audience === undefined) throw invalid("this tenant's identity provider has no audience configured");
    const options = {
      algorithms: keys.idp.algorithms,
      issuer: keys.idp.issuer,
      audience: keys.idp.audience,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    };
    const { payload } =
      typeof keys.idp.key === 'function' ? await jwtVerify(token, keys.idp.key, options) : await jwtVerify(token, keys.idp.key, options);
    return payload;
  }
  throw invalid('unexpected issuer');
}

async function verifies(token: string, claims: JWTPayload, keys: TenantKeys, deps: AuthenticateDeps): Promise<boolean> {
  try {
    await verify(token, claims, keys, deps);
    return true;
  } catch {
    return false;
  }
}

function translate(error: unknown): SchemataError {
  if (error instanceof SchemataError) return error;
  if (error instanceof errors.JWTExpired) return new SchemataError('TOKEN_EXPIRED', 'the access token has expired: refresh it or sign in again');
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid('algorithm not allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('signature verification failed');
  if (error instanceof errors.JWTClaimValidationFailed) return invalid(`claim "${error.claim}" ${error.reason === 'check_failed' ? 'is not valid' : 'is missing'}`);
  if (error instanceof errors.JOSEError) return invalid(error.code.replace(/^ERR_/, '').toLowerCase().replaceAll('_', ' '));
  return invalid('cannot be verified');
}
