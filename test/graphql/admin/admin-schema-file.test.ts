import fs from 'node:fs/promises';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import { printAdminSchemaSdl } from '../../../src/graphql/admin/schema/index.js';
import { printSchemaSdl } from '../../../src/graphql/schema/index.js';

describe('admin-schema.graphql', () => {
  it('matches the admin schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await fs.readFile(path.join(PROJECT_ROOT, 'admin-schema.graphql'), 'utf8');
    expect(committed).toBe(printAdminSchemaSdl());
  });

  it('shares no operation with the tenant schema', () => {
    // Read through graphql's own parser: a regex over the SDL took description lines for fields.
    const fields = (sdl: string, type: 'Query' | 'Mutation') => new Set(Object.keys((type === 'Query' ? buildSchema(sdl).getQueryType() : buildSchema(sdl).getMutationType())?.getFields() ?? {}));
    const admin = printAdminSchemaSdl();
    const tenant = printSchemaSdl();
    for (const type of ['Query', 'Mutation'] as const) {
      const shared = [...fields(admin, type)].filter((name) => fields(tenant, type).has(name) && name !== 'tenant');
      expect(shared).toEqual([]);
    }
    expect(fields(admin, 'Mutation').size).toBeGreaterThan(5);
  });
});
