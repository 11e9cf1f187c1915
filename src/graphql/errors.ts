import { GraphQLError } from 'graphql';
import { ERROR_HTTP_STATUS, isSchemataError, SchemataError } from '../errors.js';

export type ErrorLogger = (error: unknown) => void;

/** Details a client may branch on: the field it names, and for plan refusals the limit or feature, the plan, its maximum and the current use. */
const CLIENT_DETAILS = ['field', 'limit', 'max', 'current', 'feature', 'plan'] as const;

/** A SchemataError as the client sees it: its message, its code, the client details it carries, and an HTTP status where one applies. */
function toGraphQLError(error: SchemataError, source?: GraphQLError, extraHeaders?: Record<string, string>): GraphQLError {
  const status = ERROR_HTTP_STATUS[error.code];
  // A refusal that says when to come back (RATE_LIMITED) says it in the header clients and proxies read too.
  const retry = error.details.retryAfterSeconds;
  const headers = typeof retry === 'number' ? { ...extraHeaders, 'retry-after': String(retry) } : extraHeaders;
  const details = Object.fromEntries(CLIENT_DETAILS.filter((key) => error.details[key] !== undefined).map((key) => [key, error.details[key]]));
  return new GraphQLError(error.message, {
    nodes: source?.nodes,
    path: source?.path,
    extensions: { code: error.code, ...details, ...(status !== 200 && { http: { status, ...(headers && { headers }) } }) },
  });
}

/**
 * Failures of the connection rather than of a statement: refused or dropped
 * connections, a pool that could not hand one out in time, and the server
 * shutting down (SQLSTATE class 08 and 57P01–57P03). These are outages the
 * client should retry, so they answer 503 with Retry-After, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || isNodeAuthenticationFailure(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code))) return true;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/.test(error.message);
}

/**
 * A Citus coordinator, which is up and answering, could not open its
 * connection to a worker as the current role (the tenant's): the worker
 * refused the credentials, typically a NOLOGIN tenant role (see
 * TENANT_ROLE_LOGIN), a role with no password in pg_dist_authinfo where the
 * worker asks for one, a missing pg_hba entry or a wrong password. Citus
 * reports it with SQLSTATE 08006 like an outage, but retrying cannot help.
 * Only the message tells the two apart, so this matches Citus's English
 * wording (remote_commands.c) and libpq's; under another lc_messages it falls
 * back to DATABASE_UNAVAILABLE, which is wrong about retrying but not unsafe.
 */
export function isNodeAuthenticationFailure(error: unknown): boolean {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== '08006') return false;
  return /^connection to the remote node \S+ failed with the following error: [\s\S]*(is not permitted to log in|password authentication failed|fe_sendauth: no password supplied|no pg_hba\.conf entry|role "[^"]*" does not exist|password is required)/.test(
    error.message,
  );
}

/**
 * Yoga's error mask. Expected errors keep their message and code; GraphQL's
 * own parse and validation errors pass as they are; anything else becomes
 * "Unexpected error." with no message, SQL or stack, whatever NODE_ENV says,
 * and is handed to `log` for the operator.
 *
 * Library errors are recognised by name and `originalError` rather than
 * instanceof: graphql and Pothos ship CommonJS and ESM builds, and a process
 * can load both.
 */
export function createErrorMask(log: ErrorLogger) {
  return (error: unknown): Error => {
    const source = isGraphQLError(error) ? error : undefined;
    const cause = rootCause(error);
    const unexpected = (): GraphQLError => {
      log(cause);
      return new GraphQLError('Unexpected error.', { nodes: source?.nodes, path: source?.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    };
    if (isSchemataError(cause)) return toGraphQLError(cause, source);
    if (isNodeAuthenticationFailure(cause)) {
      log(cause);
      return toGraphQLError(
        new SchemataError('NODE_AUTHENTICATION_FAILED', "a database node refused this tenant's connection; the server is misconfigured, so retrying will not help"),
        source,
      );
    }
    if (isDatabaseUnavailable(cause)) {
      log(cause);
      return toGraphQLError(new SchemataError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry in a moment'), source, { 'retry-after': '1' });
    }
    // Pothos rejects malformed global IDs and connection arguments with these.
    if (cause instanceof Error && cause.name === 'PothosValidationError') {
      return new GraphQLError(cause.message, { nodes: source?.nodes, path: source?.path, extensions: { code: 'BAD_USER_INPUT' } });
    }
    // Pothos's other errors are GraphQLErrors too, but describe our schema, not the request.
    if (cause instanceof Error && cause.name.startsWith('Pothos')) return unexpected();
    // Without a path it came from parsing, validating or coercing the request:
    // the client's mistake, described in terms of the client's document.
    if (source && !source.path) {
      return source.originalError
        ? new GraphQLError(source.message, { nodes: source.nodes, extensions: { code: 'BAD_USER_INPUT' } })
        : source;
    }
    // A GraphQLError thrown on purpose by a resolver carries no cause.
    if (isGraphQLError(cause)) return cause;
    return unexpected();
  };
}

function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError');
}

/** Follows GraphQL's `originalError` wrapping down to what was actually thrown. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}
