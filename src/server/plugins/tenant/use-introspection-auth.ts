import { NoSchemaIntrospectionCustomRule, validate, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../../graphql/context.js';
import { SchemataError } from '../../../errors.js';

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
 *
 * graphql-js's own rule finds every field of type __Schema or __Type, however
 * it is reached (named, nested or inline fragments, aliases): a walk of the
 * operation's top level missed `{ ...F } fragment F on Query { __schema … }`.
 * It visits the document's definitions, never follows spreads, so a fragment
 * cycle cannot hang it. It runs only for anonymous requests, after the user
 * is known (the user is resolved while the context is built, after validation).
 */
export function useIntrospectionAuth(options: IntrospectionAuthOptions = {}): Plugin<GraphQLContext> {
  if (options.requireAuthentication === false) return {};
  // Yoga reuses the parsed document of a repeated query, so each is checked once.
  const introspects = new WeakMap<DocumentNode, boolean>();
  return {
    onExecute({ args }) {
      const context = args.contextValue as GraphQLContext;
      if (context.currentUser) return;
      let found = introspects.get(args.document);
      if (found === undefined) introspects.set(args.document, (found = validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length > 0));
      if (found) {
        throw new SchemataError('UNAUTHENTICATED', 'introspection needs a signed-in user: send "Authorization: Bearer <access token>"');
      }
    },
  };
}
