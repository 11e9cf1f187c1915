import fs from 'node:fs/promises';
import path from 'node:path';
import { getNamedType, isInterfaceType, isObjectType, type GraphQLNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { printSchemaSdl, schema } from '../../src/graphql/schema/index.js';

/** The node type of a Relay connection type, else undefined. */
function connectionNode(type: GraphQLNamedType): string | undefined {
  if (!isObjectType(type)) return undefined;
  const edges = type.getFields().edges;
  const edge = edges && getNamedType(edges.type);
  const nodeField = edge && isObjectType(edge) ? edge.getFields().node : undefined;
  return nodeField && getNamedType(nodeField.type).name;
}

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await fs.readFile(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSchemaSdl());
  });

  it('lists every node type from Query, so none is reachable only by id', () => {
    const node = schema.getType('Node');
    if (!isInterfaceType(node)) throw new Error('the schema has no Node interface');
    const listed = new Set(Object.values(schema.getQueryType()!.getFields()).map((field) => connectionNode(getNamedType(field.type))));
    const nodes = schema.getImplementations(node).objects.map((type) => type.name);
    expect(nodes.length).toBeGreaterThan(3);
    for (const name of nodes) expect(listed.has(name), `no Query field is a connection of ${name}`).toBe(true);
  });

  it('offers the queries and mutations clients rely on', () => {
    const sdl = printSchemaSdl();
    // Pinned by name: clients call these, so removing one must fail here even if it leaves no node type unlisted.
    for (const field of ['node(id: ID!)', 'tenant: Tenant!', 'users(', 'projects(', 'deployments(', 'workflows(', 'auditLog(']) expect(sdl).toContain(field);
    for (const mutation of ['createProject', 'createDeployment', 'updateDeploymentStatus', 'createWorkflow', 'updateWorkflow', 'deleteWorkflow', 'updateUserRole']) {
      expect(sdl).toMatch(new RegExp(`\\b${mutation}\\(`));
    }
    for (const scalar of ['DateTime', 'UUID', 'EmailAddress', 'URL', 'JSONObject']) expect(sdl).toContain(`scalar ${scalar}`);
  });
});
