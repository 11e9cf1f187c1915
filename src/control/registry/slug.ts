import { SchemataError } from '../../errors.js';
import { checkText } from '../../text-rule.js';

/** `tenant_` + slug must still fit Postgres's 63-byte identifier limit. */
export const SLUG_MAX_LENGTH = 63 - 'tenant_'.length;
const SLUG_MIN_LENGTH = 2;

const SLUG = /^[a-z][a-z0-9_]*$/;
const RESERVED: ReadonlySet<string> = new Set(['public', 'control', 'information_schema', 'admin', 'api', 'www', 'graphql', 'health', 'ready', 'metrics']);

/**
 * Checks a tenant slug before any SQL runs. Slugs travel in headers,
 * subdomains and paths, so they are kept to a shape that is safe in all three
 * and that can never be mistaken for a system schema.
 */
export function validateSlug(input: unknown): string {
  const reject = (problem: string): never => {
    throw new SchemataError('INVALID_SLUG', `invalid tenant slug ${JSON.stringify(input)}: ${problem}`, { field: 'slug' });
  };
  if (typeof input !== 'string') return reject('it must be a string');
  if (input.length < SLUG_MIN_LENGTH || input.length > SLUG_MAX_LENGTH) {
    reject(`it must be ${SLUG_MIN_LENGTH} to ${SLUG_MAX_LENGTH} characters long`);
  }
  if (!SLUG.test(input)) {
    reject(SLUG.test(input.toLowerCase()) ? `slugs are lowercase: did you mean "${input.toLowerCase()}"?` : 'use lowercase letters, digits and underscores, starting with a letter');
  }
  if (input.startsWith('pg_')) reject('the pg_ prefix is reserved by PostgreSQL');
  if (RESERVED.has(input)) reject('this name is reserved');
  return input;
}

/** Names no tenant may take; as subdomains they mean "not a tenant" (www.example.com). */
export function isReservedSlug(name: string): boolean {
  return RESERVED.has(name);
}

export const NAME_MAX_LENGTH = 200;

/** Display names are free text, but bounded, one line, and free of control characters. */
export function validateTenantName(input: unknown): string {
  const reject = (problem: string): never => {
    throw new SchemataError('INVALID_NAME', `invalid tenant name: ${problem}`, { field: 'name' });
  };
  if (typeof input !== 'string') return reject('it must be a string');
  const checked = checkText(input, { max: NAME_MAX_LENGTH, singleLine: true });
  return checked.problem === undefined ? checked.text : reject(`it ${checked.problem}`);
}
