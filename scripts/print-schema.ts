import fs from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config.js';
import { printSchemaSdl } from '../src/graphql/schema/index.js';

// Writes schema.graphql; test/graphql/schema-file.test.ts fails while it is stale.
const file = path.join(PROJECT_ROOT, 'schema.graphql');
await fs.writeFile(file, printSchemaSdl());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
