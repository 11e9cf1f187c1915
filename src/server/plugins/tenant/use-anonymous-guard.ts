import { getOperationAST, Kind, type DocumentNode, type GraphQLObjectType, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../../graphql/context.js';
import { SchemataError } from '../../../errors.js';

/** Answered from the schema alone; whether introspection needs a token is useIntrospectionAuth's decision. */
const META_FIELDS = new Set(['__typename', '__schema', '__type']);

/**
 * Root fields that do not spend the tenant's shared anonymous budget (only
 * the caller's address's): meta fields cost nothing, and `refresh` carries a
 * credential, so strangers flooding a tenant cannot end its users' sessions.
 */
const SPARES_TENANT = new Set([...META_FIELDS, 'refresh']);

const tenantSpared = new WeakSet<object>();

/** Whether this anonymous operation leaves the tenant's anonymous budget alone (see SPARES_TENANT). */
export function sparesTenantBudget(context: object): boolean {
  return tenantSpared.has(context);
}

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
  // Root fields per document and operation: parsed documents are cached by Yoga, so this walks each once.
  const fieldsByDocument = new WeakMap<DocumentNode, Map<string | null | undefined, { operation: 'query' | 'mutation' | 'subscription'; fields: string[] }>>();
  const rootFieldsOf = (document: DocumentNode, operationName: string | null | undefined) => {
    let byOperation = fieldsByDocument.get(document);
    if (!byOperation) fieldsByDocument.set(document, (byOperation = new Map()));
    if (!byOperation.has(operationName)) {
      const operation = getOperationAST(document, operationName);
      byOperation.set(operationName, operation ? { operation: operation.operation, fields: rootFields(document, operation.selectionSet) } : undefined!);
    }
    return byOperation.get(operationName);
  };
  return {
    onExecute({ args }) {
      const context = args.contextValue as GraphQLContext;
      if (context.currentUser) return;
      const root = rootFieldsOf(args.document as DocumentNode, args.operationName);
      if (!root) return;
      const allowed = allowedIn(args.schema);
      const forbidden = root.fields.find((name) => !META_FIELDS.has(name) && !allowed.has(`${root.operation}.${name}`));
      if (forbidden !== undefined) {
        throw new SchemataError('UNAUTHENTICATED', `${forbidden} needs a signed-in user: send "Authorization: Bearer <access token>"`);
      }
      if (root.fields.every((name) => SPARES_TENANT.has(name))) tenantSpared.add(context);
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
