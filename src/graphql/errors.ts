import { PothosError, PothosValidationError } from '@pothos/core';
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
 */
export function createErrorMask(log: ErrorLogger) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const source = error instanceof GraphQLError ? error : undefined;
    if (isSchemataError(original)) return toGraphQLError(original, source);
    // Pothos rejects malformed global IDs and connection arguments with these.
    if (original instanceof PothosValidationError) {
      return new GraphQLError(original.message, { nodes: source?.nodes, path: source?.path, extensions: { code: 'BAD_USER_INPUT' } });
    }
    // Pothos's other errors are GraphQLErrors too, but describe our schema, not the request.
    if (original instanceof PothosError) return unexpected(original);
    if (error instanceof GraphQLError && !error.originalError) return error;
    if (original instanceof GraphQLError && !original.originalError) return original;
    return unexpected(original ?? error);

    function unexpected(cause: unknown): GraphQLError {
      log(cause);
      return new GraphQLError('Unexpected error.', { nodes: source?.nodes, path: source?.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
  };
}
