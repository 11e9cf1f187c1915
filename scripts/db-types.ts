import fs from 'node:fs/promises';
import path from 'node:path';
import { runScript } from '../src/cli/run-script.js';
import { PROJECT_ROOT } from '../src/config.js';
import { generateTableTypes } from './db-types/table-types.js';

// Writes the Kysely table types of both templates (src/db/*-tables.generated.ts);
// test/db/table-types-file.test.ts fails while either is stale.
await runScript(async ({ database, templates }) => {
  for (const file of await generateTableTypes(database.control, templates)) {
    await fs.writeFile(path.join(PROJECT_ROOT, file.path), file.text);
    console.log(`wrote ${file.path}`);
  }
});
