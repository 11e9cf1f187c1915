import { SchemataError } from '../errors.js';

// Three base64url segments (the signature may be empty); anything else is not worth decoding.
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/**
 * The JWT in an `Authorization: Bearer <jwt>` header. Anything else is
 * UNAUTHENTICATED, with a message naming the token expected (`kind`, e.g.
 * "access token"). Whether a missing header is an error is the caller's call.
 */
export function bearerToken(authorization: string, kind: string): string {
  const token = BEARER.exec(authorization.trim())?.[1];
  if (!token) throw new SchemataError('UNAUTHENTICATED', `the Authorization header must be "Bearer <${kind}>"`);
  return token;
}
