/**
 * Expected failures: bad input, missing tenants, refused operations. Each has a
 * stable `code` that scripts and GraphQL clients can branch on; the message is
 * written for the person who has to act on it. Anything that is not a
 * SchemataError is a bug or an outage and is reported without internals.
 */
export class SchemataError extends Error {
  constructor(
    readonly code: SchemataErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    /**
     * A refusal whose writes must still commit, such as revoking a token
     * family on refresh-token reuse. Any other error rolls a mutation back.
     */
    readonly keepWrites = false,
  ) {
    super(message);
    this.name = 'SchemataError';
  }
}

/** Every code, with the HTTP status it maps to when it ends a request. */
export const ERROR_HTTP_STATUS = {
  INVALID_SLUG: 400,
  INVALID_NAME: 400,
  TENANT_EXISTS: 409,
  TENANT_NOT_FOUND: 404,
  TENANT_REQUIRED: 400,
  TENANT_MISMATCH: 400,
  INVALID_TENANT_ID: 400,
  TENANT_SUSPENDED: 403,
  TENANT_DELETED: 409,
  TENANT_NOT_DELETED: 409,
  FORCE_REQUIRED: 400,
  INVALID_TEMPLATE: 500,
  MIGRATION_DRIFT: 500,
  MIGRATION_FAILED: 500,
  NO_DOWN_MIGRATION: 400,
  INVALID_EXPORT: 400,
  EXPORT_TRUNCATED: 400,
  EXPORT_TOO_NEW: 400,
  DATABASE_UNAVAILABLE: 503,
  NODE_AUTHENTICATION_FAILED: 500,
  CITUS_REQUIRED: 400,
  NODE_NOT_FOUND: 404,
  INVALID_DOMAIN: 400,
  DOMAIN_TAKEN: 409,
  DOMAIN_NOT_FOUND: 404,
  DOMAIN_UNREACHABLE: 200,
  DOMAIN_TOKEN_NOT_SERVED: 200,
  DOMAIN_TOKEN_MISMATCH: 200,
  BAD_USER_INPUT: 200,
  INVALID_CURSOR: 200,
  NOT_FOUND: 200,
  CONFLICT: 200,
  INVALID_STATUS_TRANSITION: 200,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_TENANT_MISMATCH: 403,
  FORBIDDEN: 200,
  INVALID_CREDENTIALS: 200,
  TOO_MANY_ATTEMPTS: 200,
  INVALID_REFRESH_TOKEN: 200,
  REFRESH_TOKEN_REUSED: 200,
  INVALID_ONE_TIME_TOKEN: 200,
  WEAK_PASSWORD: 200,
  MAIL_NOT_CONFIGURED: 200,
  RATE_LIMITED: 429,
  PLAN_NOT_FOUND: 404,
  QUOTA_EXCEEDED: 200,
  FEATURE_NOT_IN_PLAN: 200,
  PLATFORM_ADMIN_REQUIRED: 403,
  TENANT_BUSY: 503,
  COST_LIMIT: 400,
  RESULT_TOO_LARGE: 400,
  TOO_MANY_SUBSCRIPTIONS: 429,
  SUBSCRIPTIONS_UNAVAILABLE: 501,
  SLOW_CONSUMER: 200,
  INVALID_SETTING: 400,
  SETTING_NOT_FOUND: 404,
  SETTING_IS_SECRET: 409,
  SETTINGS_KEY_UNAVAILABLE: 500,
  SETTINGS_TAMPERED: 500,
} as const;

export type SchemataErrorCode = keyof typeof ERROR_HTTP_STATUS;

export function isSchemataError(error: unknown): error is SchemataError {
  return error instanceof SchemataError;
}

/** Bad input to a field: `field` is the argument path a client can highlight, e.g. `input.name`. */
export function inputError(field: string, problem: string): SchemataError {
  return new SchemataError('BAD_USER_INPUT', `${field}: ${problem}`, { field });
}
