import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, PostgreSQL 16) and the only value of 15. */
const ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 and
 * 7677, in PostgreSQL's `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
 * form). `CREATE ROLE … PASSWORD '<verifier>'` stores it as it is, so the
 * password itself never appears in a statement, where log_statement would
 * write it to the server log.
 */
export function scramSha256Verifier(password: string): string {
  // SASLprep, which PostgreSQL applies to the password, is the identity on printable ASCII.
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('the password must be printable ASCII');
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
