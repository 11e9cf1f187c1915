import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { ensureEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplate } from '../../src/migrations/template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database created for this run only, with the control plane migrated. */
    databaseUrl: string;
  }
}

/**
 * One fresh database per run, on TEST_DATABASE_URL's server or on an embedded
 * cluster under .data/test. Tenant roles are cluster-wide, so teardown drops
 * the roles of this run's tenants as well as the database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig();
  const embedded = config.testDatabaseUrl
    ? undefined
    : await ensureEmbeddedPostgres({ dataDir: path.join(config.dataDir, 'test'), unsafeFastWrites: true });
  const serverUrl = config.testDatabaseUrl ?? embedded!.url;

  const name = `schemata_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  const database = await openDatabase({ ...config, databaseUrl });
  try {
    await migrateControlPlane(database, await loadTemplate(config.templatesDir, 'control'));
  } finally {
    await database.close();
  }
  project.provide('databaseUrl', databaseUrl);

  return async () => {
    const roles = await withClient(databaseUrl, async (client) => {
      const result = await client.query<{ schema_name: string }>('SELECT schema_name FROM control.tenants');
      return result.rows.map((row) => row.schema_name);
    });
    await withClient(serverUrl, async (client) => {
      await client.query(`DROP DATABASE ${client.escapeIdentifier(name)} WITH (FORCE)`);
      for (const role of roles) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(role)}`);
    });
    await embedded?.stop();
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
