import type { Database } from '../db/database.js';
import { SchemataError } from '../errors.js';
import { findPlatformSecret, setPlatformSecret } from './platform-auth.repository.js';
import { randomSecret } from './random-secret.js';
import { verifyPlatformToken, type PlatformAdmin, type PlatformTokenSettings } from './platform-token.js';

/**
 * The operator behind a request to /admin/…, checked against the current
 * platform secret (read per request: admin traffic is light, and a rotated
 * secret must stop old tokens at once).
 */
export async function authenticatePlatformAdmin(database: Database, authorization: string | null, settings: PlatformTokenSettings): Promise<PlatformAdmin> {
  const secret = await findPlatformSecret(database.control);
  if (!secret) throw new SchemataError('UNAUTHENTICATED', 'the platform has no signing key yet: run npm run migrate');
  return verifyPlatformToken(authorization, secret, settings);
}

/** A new platform secret: every platform-admin token issued before stops working on its next request. */
export async function rotatePlatformKey(database: Database): Promise<void> {
  await setPlatformSecret(database.control, randomSecret());
}
