import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, EmailAddressResolver, JSONObjectResolver, URLResolver, UUIDResolver } from 'graphql-scalars';
import type { GraphQLContext } from './context.js';
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
  };
  /** Every connection carries a lazy count: it runs only when a client asks for totalCount. */
  Connection: { totalCount: () => Promise<number> };
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    decodeGlobalID: (globalId) => decodeNodeId(globalId),
  },
});

builder.queryType({});
builder.mutationType({});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('UUID', UUIDResolver);
builder.addScalarType('EmailAddress', EmailAddressResolver);
builder.addScalarType('URL', URLResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'Rows matching the filter, across all pages.', resolve: (connection) => connection.totalCount() }),
);

export const CreatedOrder = builder.enumType('CreatedOrder', {
  values: { NEWEST_FIRST: { value: 'newest' }, OLDEST_FIRST: { value: 'oldest' } } as const,
});
