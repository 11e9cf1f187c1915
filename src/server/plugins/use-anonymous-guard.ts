import { getOperationAST, Kind, type DocumentNode, type GraphQLObjectType, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../graphql/context.js';
import { SchemataError } from '../../errors.js';

/** Answered from the schema alone; whether introspection needs a token is useIntrospectionAuth's decision. */
const META_FIELDS = new Set(['__typename', '__schema', '__type']);

interface ScopeOptions {
  readonly authScopes?: unknown;
  readonly skipTypeScopes?: boolean;
}

const scopesOf = (extensions: { readonly pothosOptions?: unknown } | null | undefined) => (extensions?.pothosOptions ?? {}) as ScopeOptions;

/**
 * Refuses an operation without a token that selects any root field a caller
 * without a token may not use, with UNAUTHENTICATED, before it is counted
 * against any rate limit and before the tenant transaction takes a pooled
 * connection. Scope auth would refuse the same fields, but only in their
 * resolvers, inside the transaction. The allowed fields are read from the
 * schema: those whose scope-auth options demand no scope (the sign-in
 * mutations, marked skipTypeScopes and with no authScopes of their own).
 */
export function useAnonymousGuard(): Plugin<GraphQLContext> {
  const allowedBySchema = new WeakMap<GraphQLSchema, ReadonlySet<string>>();
  const allowedIn = (schema: GraphQLSchema): ReadonlySet<string> => {
    let allowed = allowedBySchema.get(schema);
    if (!allowed) {
      allowed = new Set([...anonymousFields('query', schema.getQueryType()), ...anonymousFields('mutation', schema.getMutationType())]);
      allowedBySchema.set(schema, allowed);
    }
    return allowed;
  };
  return {
    onExecute({ args }) {
      if ((args.contextValue as GraphQLContext).currentUser) return;
      const document = args.document as DocumentNode;
      const operation = getOperationAST(document, args.operationName);
      if (!operation) return;
      const allowed = allowedIn(args.schema);
      const forbidden = rootFields(document, operation.selectionSet).find((name) => !META_FIELDS.has(name) && !allowed.has(`${operation.operation}.${name}`));
      if (forbidden !== undefined) {
        throw new SchemataError('UNAUTHENTICATED', `${forbidden} needs a signed-in user: send "Authorization: Bearer <access token>"`);
      }
    },
  };
}

function anonymousFields(operation: 'query' | 'mutation', type: GraphQLObjectType | null | undefined): string[] {
  if (!type) return [];
  const typeScopes = scopesOf(type.extensions).authScopes;
  return Object.values(type.getFields())
    .filter((field) => {
      const scopes = scopesOf(field.extensions);
      return scopes.authScopes === undefined && (typeScopes === undefined || scopes.skipTypeScopes === true);
    })
    .map((field) => `${operation}.${field.name}`);
}

/** Every root field name, through fragments; @skip and @include are ignored, so a skipped field still counts (fails closed). */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(document, selection.selectionSet, seen);
    const name = selection.name.value;
    if (seen.has(name)) return [];
    seen.add(name);
    const fragment = document.definitions.find((definition) => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === name);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION ? rootFields(document, fragment.selectionSet, seen) : [];
  });
}
