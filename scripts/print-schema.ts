import fs from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.js';
import { printAdminSchemaSdl } from '../src/graphql/admin/schema/index.js';
import { printSchemaSdl } from '../src/graphql/schema/index.js';

// Writes schema.graphql (tenant API) and admin-schema.graphql (/admin/graphql);
// test/graphql/schema-file.test.ts fails while either is stale.
for (const [name, sdl] of [
  ['schema.graphql', printSchemaSdl()],
  ['admin-schema.graphql', printAdminSchemaSdl()],
] as const) {
  const file = path.join(PROJECT_ROOT, name);
  await fs.writeFile(file, sdl);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
