import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, EmailAddressResolver, JSONObjectResolver, SafeIntResolver, URLResolver, UUIDResolver } from 'graphql-scalars';
import type { PlanFeature } from '../db/control-database.js';
import type { GraphQLContext } from './context.js';
import { authScopesFor, unauthorizedError } from './auth-scopes.js';
import { decodeNodeId } from './global-id.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    UUID: { Input: string; Output: string };
    EmailAddress: { Input: string; Output: string };
    URL: { Input: URL; Output: string };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    SafeInt: { Input: number; Output: number };
  };
  /** Every connection carries a lazy count: it runs only when a client asks for totalCount. */
  Connection: { totalCount: () => Promise<number> };
  /**
   * Roles, each including the ones below it: admin ⊃ member ⊃ viewer; a
   * feature of the tenant's plan (`feature: 'workflows'`); and whether the
   * tenant is within its plan's storage.
   */
  AuthScopes: { viewer: boolean; member: boolean; admin: boolean; feature: PlanFeature; withinStorage: boolean };
}>({
  // Scope auth goes first so its checks wrap every other plugin's resolvers.
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  // A subscription is refused when it starts, not at its first event: an unauthorised one holds nothing open.
  scopeAuth: { authScopes: authScopesFor, unauthorizedError, authorizeOnSubscribe: true },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    decodeGlobalID: (globalId, context) => decodeNodeId(globalId, context),
  },
});

// Nothing is public unless a field says so (skipTypeScopes): every query needs
// a viewer, every mutation a member; admin-only fields add their own scope.
// A tenant over its storage may still read, sign in (the skipTypeScopes
// mutations) and delete, but no mutation that needs a member may write.
builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { $all: { member: true, withinStorage: true } } });
builder.subscriptionType({ authScopes: { viewer: true } });

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('UUID', UUIDResolver);
builder.addScalarType('EmailAddress', EmailAddressResolver);
builder.addScalarType('URL', URLResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.addScalarType('SafeInt', SafeIntResolver);

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'Rows matching the filter, across all pages.', resolve: (connection) => connection.totalCount() }),
);

export const CreatedOrder = builder.enumType('CreatedOrder', {
  values: { NEWEST_FIRST: { value: 'newest' }, OLDEST_FIRST: { value: 'oldest' } } as const,
});
