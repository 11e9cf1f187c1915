import { encodeGlobalID } from '@pothos/plugin-relay';
import { isInterfaceType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { decodeNodeId } from '../../src/graphql/global-id.js';
import { schema } from '../../src/graphql/schema/index.js';

const ID = '00000000-0000-4000-8000-000000000000';
const signedIn = { currentUser: {} };

describe('node ids', () => {
  it('decode for every type that implements Node, and for nothing else in the schema', () => {
    const node = schema.getType('Node');
    if (!isInterfaceType(node)) throw new Error('the schema has no Node interface');
    const nodes = schema.getImplementations(node).objects.map((type) => type.name);
    expect(nodes.length).toBeGreaterThan(3);
    for (const typename of nodes) expect(decodeNodeId(encodeGlobalID(typename, ID), signedIn)).toEqual({ typename, id: ID });
    for (const typename of ['Tenant', 'AuditLogEntry', 'Query', 'PageInfo']) {
      expect(schema.getType(typename), typename).toBeDefined();
      expect(() => decodeNodeId(encodeGlobalID(typename, ID), signedIn), typename).toThrow('is not a valid id');
    }
  });
});
