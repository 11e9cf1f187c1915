import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { TrustedDocuments } from '../../trusted-documents.js';

export interface TrustedDocumentsOptions {
  readonly documents: TrustedDocuments;
  /**
   * Refuse every request that does not name a trusted document.
   * @default false
   */
  readonly only?: boolean;
}

const ONLY = {
  message: 'this server runs trusted documents only: send a known document id (extensions.persistedQuery.sha256Hash or documentId), not a query',
  extensions: { code: 'TRUSTED_DOCUMENTS_ONLY', http: { status: 400 } },
};
const NOT_FOUND = { message: 'no trusted document has this id', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } } };
const NO_QUERY = { message: 'the request has neither a query nor a trusted document id', extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } };

/** The trusted-document id a request names: the Apollo-style hash, or the GraphQL-over-HTTP `documentId`. */
function documentIdOf(params: { readonly extensions?: unknown; readonly documentId?: unknown }): string | null {
  const hash = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  if (typeof hash === 'string') return hash;
  return typeof params.documentId === 'string' ? params.documentId : null;
}

/**
 * The same decision for a transport that does not go through Yoga's request
 * pipeline (graphql-ws): the trusted document a subscription names, a
 * refusal, or undefined for "parse the query as usual".
 */
export function trustedDocumentFor(options: TrustedDocumentsOptions, params: { readonly extensions?: unknown; readonly documentId?: unknown }): DocumentNode | GraphQLError | undefined {
  const id = documentIdOf(params);
  if (id !== null) return options.documents.get(id) ?? new GraphQLError(NOT_FOUND.message, { extensions: { code: NOT_FOUND.extensions.code } });
  if (options.only) return new GraphQLError(ONLY.message, { extensions: { code: ONLY.extensions.code } });
  return undefined;
}

/**
 * Trusted documents (persisted operations): a request names a document by
 * its sha256 (`extensions.persistedQuery.sha256Hash`, or `documentId`) and
 * gets it already parsed. It is still validated, so graphql-armor's limits,
 * the cost limit, the tenant transaction and the statement budget apply as
 * to any operation (Yoga caches the validation of a document it has seen).
 * With `only`, anything else is refused before it is parsed, over HTTP and
 * WebSocket alike (graphql-ws.ts asks trustedDocumentFor).
 */
export function useTrustedDocuments(options: TrustedDocumentsOptions): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (key) => options.documents.get(key) ?? null,
    extractPersistedOperationId: (params) => documentIdOf(params as GraphQLParams & { readonly documentId?: unknown }),
    allowArbitraryOperations: !options.only,
    customErrors: { notFound: NOT_FOUND, persistedQueryOnly: ONLY, keyNotFound: options.only ? ONLY : NO_QUERY },
  });
}
