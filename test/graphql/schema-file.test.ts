import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { printSchemaSdl } from '../../src/graphql/schema/index.js';

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await fs.readFile(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSchemaSdl());
  });

  it('offers the queries and mutations clients rely on', () => {
    const sdl = printSchemaSdl();
    for (const field of ['users(', 'projects(', 'deployments(', 'workflows(', 'node(id: ID!)', 'tenant: Tenant!']) expect(sdl).toContain(field);
    for (const mutation of ['createProject', 'createDeployment', 'updateDeploymentStatus', 'createWorkflow', 'updateWorkflow', 'deleteWorkflow', 'updateUserRole']) {
      expect(sdl).toMatch(new RegExp(`\\b${mutation}\\(`));
    }
    for (const scalar of ['DateTime', 'UUID', 'EmailAddress', 'URL', 'JSONObject']) expect(sdl).toContain(`scalar ${scalar}`);
  });
});
