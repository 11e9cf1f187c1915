import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { testConfig } from './test-database.js';

export interface ScratchDatabase {
  readonly database: Database;
  /** Drops the database and the roles of the tenants made in it (roles are cluster-wide). */
  drop(): Promise<void>;
}

/**
 * An empty database of its own on the test server, for tests that need the
 * control plane at an older version or fixed slugs such as the demo's.
 */
export async function openScratchDatabase({ poolSize = 4 }: { poolSize?: number } = {}): Promise<ScratchDatabase> {
  const serverUrl = new URL(inject('databaseUrl'));
  const name = `schemata_scratch_${randomBytes(4).toString('hex')}`;
  const onServer = async <T>(url: URL, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase(testConfig({ databaseUrl: url.toString(), poolSize }));
  return {
    database,
    async drop() {
      await database.close();
      const roles = await onServer(url, async (client) => {
        const result = await client.query<{ schema_name: string }>(`SELECT schema_name FROM control.tenants WHERE to_regclass('control.tenants') IS NOT NULL`).catch(() => ({ rows: [] }));
        return result.rows.map((row) => row.schema_name);
      });
      await onServer(serverUrl, async (client) => {
        await client.query(`DROP DATABASE ${client.escapeIdentifier(name)} WITH (FORCE)`);
        for (const role of roles) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(role)}`);
      });
    },
  };
}
