import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import type { TrustedDocuments } from '../../trusted-documents.js';

export interface TrustedDocumentsOptions {
  readonly documents: TrustedDocuments;
  /**
   * Refuse every request that does not name a trusted document.
   * @default false
   */
  readonly only?: boolean;
}

/**
 * Trusted documents (persisted operations): a request names a document by
 * its sha256 (`extensions.persistedQuery.sha256Hash`, or `documentId`), and
 * gets it already parsed, without validation: the operator vetted it when it
 * entered the manifest. The cost limit, the tenant transaction and the
 * statement budget apply as to any operation. With `only`, anything else is
 * refused before it is parsed.
 */
export function useTrustedDocuments(options: TrustedDocumentsOptions): Plugin {
  const only = {
    message: 'this server runs trusted documents only: send a known document id (extensions.persistedQuery.sha256Hash or documentId), not a query',
    extensions: { code: 'TRUSTED_DOCUMENTS_ONLY', http: { status: 400 } },
  };
  return usePersistedOperations({
    getPersistedOperation: (key) => options.documents.get(key) ?? null,
    allowArbitraryOperations: !options.only,
    skipDocumentValidation: true,
    customErrors: {
      notFound: { message: 'no trusted document has this id', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } } },
      persistedQueryOnly: only,
      keyNotFound: only,
    },
  });
}
