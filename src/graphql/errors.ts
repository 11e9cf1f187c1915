import { GraphQLError } from 'graphql';
import { ERROR_HTTP_STATUS, isSchemataError, type SchemataError } from '../errors.js';

export type ErrorLogger = (error: unknown) => void;

/** A SchemataError as the client sees it: its message, its code, the field it names, and an HTTP status where one applies. */
export function toGraphQLError(error: SchemataError, source?: GraphQLError): GraphQLError {
  const status = ERROR_HTTP_STATUS[error.code];
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  return new GraphQLError(error.message, {
    nodes: source?.nodes,
    path: source?.path,
    extensions: { code: error.code, ...(field && { field }), ...(status !== 200 && { http: { status } }) },
  });
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
