import { randomBytes } from 'node:crypto';

/**
 * 256 random bits as base64url (43 characters): signing secrets, refresh and
 * one-time tokens. The `length >= 43` CHECKs in control migrations 0003 and
 * 0005 rely on this length.
 */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
