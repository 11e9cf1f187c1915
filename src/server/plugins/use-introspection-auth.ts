import { getOperationAST, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../graphql/context.js';
import { SchemataError } from '../../errors.js';

export interface IntrospectionAuthOptions {
  /**
   * Require a signed-in user for __schema and __type.
   * @default true
   */
  readonly requireAuthentication?: boolean;
}

/**
 * Introspection obeys the same rule as data in production: no token, no
 * schema. (Development leaves it open so GraphiQL can load the docs before a
 * token is pasted.)
 */
export function useIntrospectionAuth(options: IntrospectionAuthOptions = {}): Plugin<GraphQLContext> {
  if (options.requireAuthentication === false) return {};
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      const context = args.contextValue as GraphQLContext;
      if (operation && !context.currentUser && introspects(operation.selectionSet)) {
        throw new SchemataError('UNAUTHENTICATED', 'introspection needs a signed-in user: send "Authorization: Bearer <access token>"');
      }
    },
  };
}

function introspects(selectionSet: SelectionSetNode): boolean {
  return selectionSet.selections.some(
    (selection) =>
      (selection.kind === 'Field' && (selection.name.value === '__schema' || selection.name.value === '__type')) ||
      (selection.kind === 'InlineFragment' && introspects(selection.selectionSet)),
  );
}
