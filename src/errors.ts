/**
 * Expected failures: bad input, missing tenants, refused operations. Each has a
 * stable `code` that scripts and (later) GraphQL clients can branch on; the
 * message is written for the person who has to act on it. Anything that is not
 * a SchemataError is a bug or an outage and is reported without internals.
 */
export class SchemataError extends Error {
  constructor(
    readonly code: SchemataErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'SchemataError';
  }
}

export type SchemataErrorCode =
  | 'INVALID_SLUG'
  | 'INVALID_NAME'
  | 'TENANT_EXISTS'
  | 'TENANT_NOT_FOUND'
  | 'FORCE_REQUIRED'
  | 'INVALID_TEMPLATE'
  | 'MIGRATION_DRIFT'
  | 'MIGRATION_FAILED'
  | 'NO_DOWN_MIGRATION'
  | 'DATABASE_UNAVAILABLE';

export function isSchemataError(error: unknown): error is SchemataError {
  return error instanceof SchemataError;
}
