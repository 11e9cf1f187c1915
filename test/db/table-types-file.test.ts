import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { CONTROL_TABLES_FILE, generateTableTypes, TENANT_TABLES_FILE, type TableTypesFile } from '../../scripts/db-types/table-types.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { openTestDatabase, TEMPLATES_DIR } from '../helpers/test-database.js';

let database: Database;
let generated: TableTypesFile[];
const statements: string[] = [];

beforeAll(async () => {
  database = await openTestDatabase({ onQuery: (text) => statements.push(text) });
  generated = await generateTableTypes(database.control, await loadTemplates(TEMPLATES_DIR));
});

afterAll(async () => {
  await database.close();
});

describe('the generated Kysely table types', () => {
  it('match the templates (run `npm run db:types` after changing a template)', async () => {
    expect(generated.map((file) => file.path)).toEqual([TENANT_TABLES_FILE, CONTROL_TABLES_FILE]);
    for (const file of generated) {
      const committed = await fs.readFile(path.join(PROJECT_ROOT, file.path), 'utf8');
      expect(committed, `${file.path} is stale: run \`npm run db:types\``).toBe(file.text);
    }
  });

  it('name tenant tables unqualified and control tables as control.x', () => {
    const text = (file: string) => generated.find((generatedFile) => generatedFile.path === file)!.text;
    const tenant = text(TENANT_TABLES_FILE);
    const control = text(CONTROL_TABLES_FILE);
    expect(tenant).toMatch(/^ {2}users: Users;$/m);
    expect(control).toMatch(/^ {2}"control\.tenants": ControlTenants;$/m);
    expect(tenant + control).not.toMatch(/schema_migrations|tenant_[0-9a-f]{32}/);
  });

  it('are read from scratch schemas that are gone afterwards', async () => {
    const scratch = statements.flatMap((text) => /^CREATE SCHEMA "([^"]+)"/.exec(text)?.[1] ?? []);
    expect(scratch).toHaveLength(2);
    const left = await sql<{ nspname: string }>`SELECT nspname FROM pg_namespace WHERE nspname = ANY(${scratch}::text[])`.execute(database.control);
    expect(left.rows).toEqual([]);
  });
});
