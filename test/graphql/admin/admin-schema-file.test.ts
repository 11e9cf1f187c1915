import fs from 'node:fs/promises';
import path from 'node:path';
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
    const fields = (sdl: string, type: string) => new Set([...(sdl.match(new RegExp(`type ${type} \\{([^}]*)\\}`))?.[1] ?? '').matchAll(/^\s+(\w+)/gm)].map((m) => m[1]));
    const admin = printAdminSchemaSdl();
    const tenant = printSchemaSdl();
    for (const type of ['Query', 'Mutation']) {
      const shared = [...fields(admin, type)].filter((name) => fields(tenant, type).has(name) && name !== 'tenant');
      expect(shared).toEqual([]);
    }
    expect(fields(admin, 'Mutation').size).toBeGreaterThan(5);
  });
});
