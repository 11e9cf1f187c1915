import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { ControlDatabase } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { lockSchemaShared, unlockSchemaShared } from './tenant-tables.repository.js';

export interface SchemaReadHold {
  /** The pinned connection, for statements Kysely cannot express (BEGIN, streams). */
  readonly client: pg.PoolClient;
  /** Runs any SQL on that connection; only its table types are the control plane's. */
  readonly db: Kysely<ControlDatabase>;
  /** Gives the hold back and the connection to the pool; a connection that cannot give the hold back, or `broken`, is closed instead. */
  release(broken?: Error): Promise<void>;
}

/**
 * One pooled connection holding a shared hold on a tenant schema, for export
 * and clone: migrators wait until it is released, and a snapshot taken on
 * this connection afterwards sees no half-migrated table.
 */
export async function holdSchemaForReading(database: Database, schema: string): Promise<SchemaReadHold> {
  const client = await database.pool.connect();
  const db = database.bindClient(client) as unknown as Kysely<ControlDatabase>;
  try {
    await lockSchemaShared(db, schema);
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  return {
    client,
    db,
    async release(broken) {
      let failure = broken;
      // The hold is the session's: never pool a connection that may still have it.
      if (!failure) await unlockSchemaShared(db, schema).catch((error: unknown) => (failure = error as Error));
      client.release(failure);
    },
  };
}
